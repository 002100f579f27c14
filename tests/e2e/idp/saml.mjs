// A real SAML 2.0 identity provider for tests/e2e/test_sso.py, built on samlify: it takes the
// service provider's AuthnRequest (HTTP-Redirect binding), shows a sign-in form, and posts a signed
// assertion back (HTTP-POST binding) with the attributes a UK Access Management Federation IdP
// releases (subject-id, mail, givenName, sn).
//   PORT=… IDP_CERT=… IDP_KEY=… SP_ENTITY_ID=… SP_ACS_URL=… node saml.mjs
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import samlify from 'samlify';

const port = Number(process.env.PORT);
const base = `http://127.0.0.1:${port}`;
// The AuthnRequest comes from python3-saml, which builds it to the schema; this IdP is a test double
// for a federation member, not a place to harden XML parsing.
samlify.setSchemaValidator({ validate: () => Promise.resolve('skipped') });

const { SamlLib } = samlify;
const attributes = [
  { name: 'urn:oasis:names:tc:SAML:attribute:subject-id', valueTag: 'subjectid' },
  { name: 'urn:oid:0.9.2342.19200300.100.1.3', valueTag: 'mail' },
  { name: 'urn:oid:2.5.4.42', valueTag: 'givenname' },
  { name: 'urn:oid:2.5.4.4', valueTag: 'sn' },
].map((a) => ({ ...a, nameFormat: 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri', valueXsiType: 'xs:string' }));

const idp = samlify.IdentityProvider({
  entityID: `${base}/metadata`,
  signingCert: readFileSync(process.env.IDP_CERT, 'utf8'),
  privateKey: readFileSync(process.env.IDP_KEY, 'utf8'),
  singleSignOnService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${base}/sso` }],
  nameIDFormat: ['urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'],
  loginResponseTemplate: { context: SamlLib.defaultLoginResponseTemplate.context, attributes },
});
const sp = samlify.ServiceProvider({
  entityID: process.env.SP_ENTITY_ID,
  assertionConsumerService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', Location: process.env.SP_ACS_URL }],
  wantAssertionsSigned: true,
});

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;

function loginResponse(requestId, email) {
  const now = new Date();
  const later = new Date(now.getTime() + 5 * 60 * 1000).toISOString();
  const local = email.split('@')[0].split(/[._-]+/);
  const cap = (w) => (w ? w[0].toUpperCase() + w.slice(1) : '');
  const id = `_${Math.random().toString(36).slice(2)}${Date.now()}`;
  const authnStatement = `<saml:AuthnStatement AuthnInstant="${now.toISOString()}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`;
  return idp.createLoginResponse(sp, { extract: { request: { id: requestId } } }, 'post', { email }, (template) => ({
    id,
    // Markup goes in before the values, which replaceTagsByValue escapes.
    context: SamlLib.replaceTagsByValue(template.replace('{AuthnStatement}', authnStatement), {
      ID: id,
      AssertionID: `_a${id}`,
      Destination: process.env.SP_ACS_URL,
      Audience: process.env.SP_ENTITY_ID,
      SubjectRecipient: process.env.SP_ACS_URL,
      Issuer: `${base}/metadata`,
      IssueInstant: now.toISOString(),
      StatusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success',
      ConditionsNotBefore: now.toISOString(),
      ConditionsNotOnOrAfter: later,
      SubjectConfirmationDataNotOnOrAfter: later,
      NameIDFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
      NameID: `saml-${email}`,
      InResponseTo: requestId,
      attrSubjectid: `saml-${email}`,
      attrMail: email,
      attrGivenname: cap(local[0]),
      attrSn: cap(local.slice(1).join(' ')),
    }),
  }));
}

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

createServer(async (req, res) => {
  const url = new URL(req.url, base);
  try {
    if (req.method === 'GET' && url.pathname === '/metadata') {
      res.writeHead(200, { 'Content-Type': 'application/samlmetadata+xml' });
      return res.end(idp.getMetadata());
    }
    if (req.method === 'GET' && url.pathname === '/sso') {
      const query = Object.fromEntries(url.searchParams);
      const parsed = await idp.parseLoginRequest(sp, 'redirect', { query });
      const requestId = parsed.extract.request.id;
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      return res.end(page('Test SAML IdP', `<h1>Test SAML identity provider</h1>
        <form method="post" action="/sso/login">
          <input type="hidden" name="request_id" value="${escape(requestId)}">
          <input type="hidden" name="relay_state" value="${escape(query.RelayState || '')}">
          <label>Email <input name="email" type="email" required></label>
          <button type="submit">Sign in to the test IdP</button>
        </form>`));
    }
    if (req.method === 'POST' && url.pathname === '/sso/login') {
      const form = await body(req);
      const { context } = await loginResponse(form.get('request_id'), form.get('email'));
      if (process.env.DEBUG_SAML) console.log(Buffer.from(context, 'base64').toString('utf8'));
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      // The HTTP-POST binding: the browser carries the signed response to the service provider.
      return res.end(page('Signing in', `<form method="post" action="${escape(process.env.SP_ACS_URL)}" id="saml-post">
          <input type="hidden" name="SAMLResponse" value="${escape(context)}">
          <input type="hidden" name="RelayState" value="${escape(form.get('relay_state') || '')}">
          <button type="submit">Continue</button>
        </form><script>document.getElementById('saml-post').submit();</script>`));
    }
    res.writeHead(404);
    return res.end('not found');
  } catch (error) {
    console.error(error);
    res.writeHead(400, { 'Content-Type': 'text/plain' });
    return res.end(`SAML IdP error: ${error && error.message ? error.message : error}`);
  }
}).listen(port, '127.0.0.1', () => console.log(`saml idp ready at ${base}`));
