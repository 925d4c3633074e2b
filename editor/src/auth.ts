/**
 * How the extension authenticates to suite_ai. Two ways, as La Suite deploys it:
 * - a bearer token (the OIDC access token the host application already holds), asked for before
 *   every request so an expiring token can be refreshed by the provider;
 * - cookies, when suite_ai is served on the host's own domain (Docs' session cookie). A cookie
 *   session needs the CSRF token on unsafe methods, read from the cookie Django names.
 */
export interface SuiteAiAuth {
  /** Headers added to every API request. */
  headers(method: string): Promise<Record<string, string>>;
  /** `credentials` of fetch: "omit" for bearer tokens, "same-origin"/"include" for cookies. */
  readonly credentials: RequestCredentials;
  /** Whether EventSource must send cookies (cross-origin cookie sessions). */
  readonly withCredentials: boolean;
}

export type TokenProvider = () => string | null | undefined | Promise<string | null | undefined>;

export function bearerAuth(provider: TokenProvider): SuiteAiAuth {
  return {
    credentials: "omit",
    withCredentials: false,
    async headers(): Promise<Record<string, string>> {
      const token = await provider();
      return token ? { Authorization: `Bearer ${token}` } : {};
    },
  };
}

export interface CookieAuthOptions {
  /** "same-origin" (default) when suite_ai shares the page's origin, "include" across origins. */
  credentials?: "same-origin" | "include";
  /** The cookie holding the CSRF token (Django's default: csrftoken); null: send none. */
  csrfCookieName?: string | null;
  csrfHeaderName?: string;
  /** Where cookies are read from (tests give their own). */
  cookies?: () => string;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function readCookie(cookies: string, name: string): string | null {
  for (const part of cookies.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

export function cookieAuth(options: CookieAuthOptions = {}): SuiteAiAuth {
  const credentials = options.credentials ?? "same-origin";
  const csrfCookie = options.csrfCookieName === undefined ? "csrftoken" : options.csrfCookieName;
  const header = options.csrfHeaderName ?? "X-CSRFToken";
  const cookies = options.cookies ?? (() => (typeof document === "undefined" ? "" : document.cookie));
  return {
    credentials,
    withCredentials: credentials === "include",
    async headers(method: string) {
      if (!csrfCookie || SAFE_METHODS.has(method.toUpperCase())) return {};
      const token = readCookie(cookies(), csrfCookie);
      return token ? { [header]: token } : {};
    },
  };
}
