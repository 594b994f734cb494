// Node arguments for a child process whose resolver throws on bullmq and ioredis: a hook registered
// from a data: URL before the script's first import. What runs there proves it never loads them.
const hook = `export async function resolve(specifier, context, next) {
  if (/^(bullmq|ioredis)(\\/|$)/.test(specifier)) throw new Error('queue dependency loaded: ' + specifier);
  return next(specifier, context);
}`;
const register = `import { register } from 'node:module';
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;

export const WITHOUT_QUEUE_DEPENDENCIES = [
  '--import',
  `data:text/javascript,${encodeURIComponent(register)}`,
];
