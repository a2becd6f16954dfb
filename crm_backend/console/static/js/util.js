// Small helpers without DOM.

/** Run ``fn`` at most once at a time; calls during a run schedule one more run
 * (with the arguments of the latest call). */
export function coalesce(fn) {
  let running = null;
  let again = null;
  const run = (...args) => {
    if (running) {
      again = args;
      return running;
    }
    running = (async () => {
      try {
        let next = args;
        while (next) {
          again = null;
          await fn(...next);
          next = again;
        }
      } finally {
        running = null;
      }
    })();
    return running;
  };
  return run;
}
