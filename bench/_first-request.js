// Preloaded by bench/startup.js (node --import) into the commands whose budget runs "to their first network
// request": the process's own CPU time (process.cpuUsage: user+sys) when it opens its first TCP connection
// (net.Socket#connect: Kubernetes, S3 and SSH all start there), and at exit; appended as one JSON line to
// $OBSCTL_BENCH_FIRST_REQUEST. For `node -e 0` (the floor) only the exit figure is there.
import fs from 'node:fs'
import net from 'node:net'

const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
let first
const connect = net.Socket.prototype.connect
net.Socket.prototype.connect = function (...args) {
  first ??= cpuMs()
  return connect.apply(this, args)
}
process.on('exit', () => fs.appendFileSync(process.env.OBSCTL_BENCH_FIRST_REQUEST, `${JSON.stringify({first, exit: cpuMs()})}\n`))
