/**
 * The functions with the most self time in a V8 `.cpuprofile` (bench/report/profile.ts), for a file
 * of one's choosing, such as those `npm run bench -- --profile` leaves:
 *
 *   node --import tsx bench/profile.ts <file.cpuprofile> [top]
 */
import { describeProfile } from './report/profile.js';

const [file, count] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('Usage: node --import tsx bench/profile.ts <file.cpuprofile> [top]\n');
  process.exit(2);
}
process.stdout.write(`${describeProfile(file, count === undefined ? 20 : Number(count))}\n`);
