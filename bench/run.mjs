#!/usr/bin/env node
// npm run bench -- <name> [--duration SECONDS] [--connections N]
// npm run bench -- signin [--clients 1,16,64]
// npm run bench -- farm [--duration SLICE_SECONDS] [--rounds N] [--placement one-core|whole-machine]
// npm run bench -- memory
// npm run bench -- sync [--users N] [--time-scale S] [--max-minutes M] [--fresh] [--dc-dir DIR]
// Each benchmark prints a table and writes bench/results/<name>.json. Every figure is a ratio against a
// baseline measured in the same run, because absolute times on a shared machine drift.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    // farm: rounds of slices (each configuration gets a --duration slice of each kind per round)
    rounds: { type: 'string', default: '5' },
    // farm: one-core (the DC on one core, all else on the other) or whole-machine (nothing pinned)
    placement: { type: 'string', default: 'one-core' },
    // signin: which client counts to measure (comma-separated)
    clients: { type: 'string', default: '1,16,64' },
    // sync: directory size, emulator time scale (0.1 = Graph's windows 10x shorter), minutes allowed for generating the directory and for the full cycle each
    users: { type: 'string', default: '10000' },
    'time-scale': { type: 'string', default: '0.1' },
    'max-minutes': { type: 'string', default: '25' },
    fresh: { type: 'boolean', default: false },
    'dc-dir': { type: 'string', default: '/tmp/gatehouse-bench-dc' },
  },
});
const name = positionals[0];
const benches = { token: './token.mjs', signin: './signin.mjs', sync: './sync.mjs', memory: './memory.mjs', farm: './farm.mjs', mfa: './mfa.mjs', kerberos: './kerberos.mjs' };
if (!benches[name]) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [--duration SECONDS] [--connections N]`);
  process.exit(2);
}
const { default: run } = await import(benches[name]);
const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
const result = await run({
  duration: Number(values.duration),
  connections: Number(values.connections),
  rounds: Number(values.rounds),
  placement: values.placement,
  clients: values.clients.split(',').map(Number),
  users: Number(values.users),
  timeScale: Number(values['time-scale']),
  maxMinutes: Number(values['max-minutes']),
  fresh: values.fresh,
  dcDir: values['dc-dir'],
});
const out = { name, date: new Date().toISOString(), machine, command: `npm run bench -- ${process.argv.slice(2).join(' ')}`, ...result };
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL(`./results/${name}.json`, import.meta.url), JSON.stringify(out, null, 2) + '\n');
console.log(`\nmachine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`);
console.log(`written: bench/results/${name}.json`);
process.exit(0);
