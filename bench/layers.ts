/**
 * `npx tsx bench/layers.ts PROFILE.cpuprofile TRANSFERS`: the README's per-transfer budget by layer,
 * from a CPU profile of a bench client (`node --cpu-prof`, see the README's commands): each sample's
 * self time goes to the layer of its function, divided by the transfers the process ran (warm-up
 * included). Idle time is left out. Prints a markdown table of µs per transfer.
 *
 * Time inside a koffi call is the self time of the JavaScript function that made it: so the time in
 * `socketAction` is libcurl, the kernel and koffi's entry into the callbacks, whose own JavaScript is
 * counted in the layers below.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const LAYERS = [
  'libcurl + kernel (inside `curl_multi_socket_action`)',
  'response head and result (`getinfo`, `nextheader`, decoding)',
  'native driver, callbacks, polls (JavaScript)',
  'API (normalisation, body buffer, response, `requestAll()`)',
  'GC',
  'RxJS',
  'engine (`src/core`)',
  'Node and the rest',
] as const;
type Layer = (typeof LAYERS)[number];

function layerOf({ functionName, url }: ProfileNode['callFrame']): Layer | undefined {
  if (functionName === '(idle)') return undefined;
  if (functionName === '(garbage collector)') return 'GC';
  if (url.includes('/native/NativeDriver.') && /^socket(Action|All)$/.test(functionName)) return LAYERS[0];
  if (
    url.includes('/native/readResponse.') ||
    (url.includes('/native/EasySlot.') && functionName === 'respond')
  )
    return LAYERS[1];
  if (url.includes('/native/')) return LAYERS[2];
  if (/\/(api|operators|scheduling)\//.test(url)) return LAYERS[3];
  // What normalisation and the body buffer call: URL checks, Buffer allocation.
  if (functionName === 'canParse' || functionName.startsWith('RegExp:')) return LAYERS[3];
  if (/^node:(internal\/)?buffer$/.test(url)) return LAYERS[3];
  if (url.includes('/node_modules/rxjs/')) return 'RxJS';
  if (url.includes('/core/')) return 'engine (`src/core`)';
  return 'Node and the rest';
}

const [file, transfersText] = process.argv.slice(2);
if (!file || !transfersText) {
  console.error('usage: npx tsx bench/layers.ts PROFILE.cpuprofile TRANSFERS');
  process.exit(2);
}
const transfers = Number(transfersText);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const micros = new Map<Layer, number>(LAYERS.map((layer) => [layer, 0]));
profile.samples.forEach((id, i) => {
  const layer = layerOf(byId.get(id)!.callFrame);
  if (layer) micros.set(layer, micros.get(layer)! + (profile.timeDeltas[i] ?? 0));
});

let total = 0;
console.log('| layer | µs per transfer |\n| --- | --- |');
for (const layer of LAYERS) {
  const perTransfer = micros.get(layer)! / transfers;
  total += perTransfer;
  console.log(`| ${layer} | ${perTransfer.toFixed(1)} |`);
}
console.log(`| total | ${total.toFixed(1)} |`);
