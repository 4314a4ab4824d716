#!/usr/bin/env node
// Sets (or reads) server weights through HAProxy's runtime API, for `mlv rollout --backend command`.
//
//   node scripts/haproxy-weight.mjs SOCKET BACKEND/SERVER WEIGHT [BACKEND/SERVER WEIGHT …]
//       sends `set weight BACKEND/SERVER WEIGHT` for each pair, in order; WEIGHT may have decimals
//       (mlv's {weight}, e.g. 5.25) and is rounded to HAProxy's whole weights 0–256.
//   node scripts/haproxy-weight.mjs SOCKET BACKEND/SERVER
//       prints the server's current weight (for the backend's verify command).
//
// Example (the candidate's share as a weight out of 100, the rest to stable):
//   mlv rollout start churn --candidate 7 --backend command \
//     --command 'node scripts/haproxy-weight.mjs /run/haproxy/admin.sock be/canary {weight} be/stable {stable_weight}'
//
// SOCKET is the path of a `stats socket … level admin` line in haproxy.cfg (or host:port for a TCP
// `stats socket ipv4@127.0.0.1:9999 level admin`). Exit 0 when every command was accepted, 1 when
// HAProxy answered with an error (printed on stderr) or could not be reached, 2 on bad arguments.
// Plain node:net, no socat; runs on Node 18+.
import net from 'node:net';

function usage(message) {
  process.stderr.write(
    `haproxy-weight: ${message}\nusage: node haproxy-weight.mjs SOCKET BACKEND/SERVER [WEIGHT] [BACKEND/SERVER WEIGHT …]\n`,
  );
  process.exit(2);
}

/** One runtime API command; resolves with HAProxy's whole answer (it closes the connection after it). */
function runtimeCommand(socket, command, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const tcp = /^([\w.-]+|\[[\d:a-f]+\]):(\d+)$/i.exec(socket);
    const conn = tcp
      ? net.createConnection(Number(tcp[2]), tcp[1].replace(/^\[|\]$/g, ''))
      : net.createConnection(socket);
    const chunks = [];
    conn.setTimeout(timeoutMs, () => conn.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    conn.on('connect', () => conn.end(`${command}\n`));
    conn.on('data', (c) => chunks.push(c));
    conn.on('error', reject);
    conn.on('close', (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks).toString());
    });
  });
}

async function main(argv) {
  const [socket, ...rest] = argv;
  if (!socket || rest.length === 0) usage('expected a socket and at least one BACKEND/SERVER');
  const server = (s) => {
    if (!/^[\w.:-]+\/[\w.:-]+$/.test(s)) usage(`"${s}" is not BACKEND/SERVER (e.g. be/canary)`);
    return s;
  };
  const run = async (command) => {
    try {
      return (await runtimeCommand(socket, command)).trim();
    } catch (err) {
      process.stderr.write(`haproxy-weight: ${socket}: ${err.message}\n`);
      process.exit(1);
    }
  };

  if (rest.length === 1) {
    const answer = await run(`get weight ${server(rest[0])}`);
    const m = /^(\d+)\b/.exec(answer); // "25 (initial 100)"
    if (!m) {
      process.stderr.write(`haproxy-weight: get weight ${rest[0]}: ${answer}\n`);
      process.exit(1);
    }
    process.stdout.write(`${m[1]}\n`);
    return;
  }
  if (rest.length % 2 !== 0) usage('expected BACKEND/SERVER WEIGHT pairs');
  const pairs = [];
  for (let i = 0; i < rest.length; i += 2) {
    const weight = Number(rest[i + 1]);
    if (rest[i + 1].trim() === '' || !Number.isFinite(weight) || weight < 0 || weight > 256)
      usage(`the weight of ${rest[i]} must be a number from 0 to 256, got "${rest[i + 1]}"`);
    pairs.push([server(rest[i]), Math.round(weight)]);
  }
  for (const [name, weight] of pairs) {
    // `set weight` answers nothing when it worked, and a message ("No such server.") when not.
    const answer = await run(`set weight ${name} ${weight}`);
    if (answer !== '') {
      process.stderr.write(`haproxy-weight: set weight ${name} ${weight}: ${answer}\n`);
      process.exit(1);
    }
  }
}

await main(process.argv.slice(2));
