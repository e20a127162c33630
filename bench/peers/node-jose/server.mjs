// The peer that channels-api is measured against: the same GET /api/me that a team would
// otherwise write in Node.js with the `jose` library. It verifies the same RS256 tokens against
// the same JWKS (issuer, audience, lifetime with 300 s of skew, scope) and answers the same
// JSON, with channels from the same demo mapping. One process, as such services usually run.
import http from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const { PORT, JWKS_URL, ISSUER, AUDIENCE } = process.env;
const SCOPE = 'UserProfile.ReadWrite';
const keys = createRemoteJWKSet(new URL(JWKS_URL));
const channels = [
  ['All Call', ['dispatch', 'fire-north', 'police-south']],
  ['Dispatch Ops', ['dispatch']],
  ['Fire North Tac', ['fire-north']],
  ['Police South Ops', ['police-south']],
];

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

http
  .createServer(async (req, res) => {
    if (req.url !== '/api/me') return send(res, 404, { error: 'not_found' });
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ')) return send(res, 401, { error: 'missing_token' }, { 'www-authenticate': 'Bearer' });
    let payload;
    try {
      ({ payload } = await jwtVerify(auth.slice(7), keys, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['RS256'],
        clockTolerance: 300,
      }));
    } catch (error) {
      return send(res, 401, { error: 'invalid_token', message: error.message });
    }
    if (!String(payload.scp ?? '').split(' ').includes(SCOPE)) return send(res, 403, { error: 'insufficient_scope' });
    const groups = payload.groups ?? [];
    const lower = groups.map((g) => g.toLowerCase());
    send(res, 200, {
      upn: payload.upn ?? payload.preferred_username ?? '',
      name: payload.name ?? '',
      tenant_id: payload.tid,
      object_id: payload.oid,
      groups,
      channels: channels.filter(([, wanted]) => wanted.some((g) => lower.includes(g))).map(([name]) => name),
    });
  })
  .listen(Number(PORT), '127.0.0.1');
