import ora from 'ora';

/**
 * One long local step (the lab's image build): an ora spinner in a
 * terminal, whose text follows the step's progress; plain lines where ora
 * would not spin (stdout not a terminal, TERM=dumb, a CI variable), as a
 * spinner's frames would be noise in a log.
 */
export async function step<T>(title: string, run: (say: (s: string) => void) => Promise<T>, done: (r: T) => string = () => title): Promise<T> {
  const started = Date.now();
  const took = () => `${Math.round((Date.now() - started) / 1000)} s`;
  const spinner = ora({ text: title, stream: process.stdout });
  if (spinner.isEnabled) {
    spinner.start();
    try {
      const r = await run((s) => (spinner.text = `${title}: ${s}`));
      spinner.succeed(`${done(r)} (${took()})`);
      return r;
    } catch (err) {
      spinner.fail(title);
      throw err;
    }
  }
  console.log(title);
  const r = await run((s) => console.log(`  ${s}`));
  console.log(`${done(r)}: done in ${took()}`);
  return r;
}
