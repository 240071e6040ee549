// Secrets inside URLs (`http://user:password@proxy:3128`, as corporate proxy settings often carry them) never
// reach a screen, a log or JSON: the password becomes `***`. One redaction for every URL a command echoes.

/** Scheme, then the authority's userinfo up to its last `@` (greedy: a raw password may hold an unencoded `@`). */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^/?#\s]*)@/gi;

/** `text` with the password of every URL in it replaced by `***` (the user name stays, to say which account). */
export function redactUrls(text: string): string {
  return text.replace(USERINFO, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon < 0 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}
