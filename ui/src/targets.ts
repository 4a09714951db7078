// Target forms: presets for common services, and the URL a form describes (validated as the
// user types). The URL never holds a secret; credentials travel separately to the keychain.

export type TargetKind = "local" | "s3" | "webdav";

export interface S3Form {
  preset: string;
  endpoint: string;
  region: string;
  bucket: string;
  prefix: string;
  virtualHost: boolean;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface WebDavForm {
  preset: string;
  url: string;
  user: string;
  password: string;
}

export interface S3Preset {
  id: string;
  label: string;
  endpoint: (region: string) => string;
  region: string;
  virtualHost: boolean;
}

export const S3_PRESETS: readonly S3Preset[] = [
  { id: "aws", label: "AWS S3", endpoint: (r) => `https://s3.${r}.amazonaws.com`, region: "us-east-1", virtualHost: true },
  { id: "cos", label: "腾讯云 COS / Tencent COS", endpoint: (r) => `https://cos.${r}.myqcloud.com`, region: "ap-guangzhou", virtualHost: true },
  { id: "oss", label: "阿里云 OSS / Aliyun OSS", endpoint: (r) => `https://oss-${r}.aliyuncs.com`, region: "cn-hangzhou", virtualHost: true },
  { id: "r2", label: "Cloudflare R2", endpoint: () => "https://ACCOUNT_ID.r2.cloudflarestorage.com", region: "auto", virtualHost: false },
  { id: "minio", label: "MinIO / Garage (self-hosted)", endpoint: () => "http://nas.local:9000", region: "us-east-1", virtualHost: false },
];

export const WEBDAV_PRESETS: readonly { id: string; label: string; url: string }[] = [
  { id: "nextcloud", label: "Nextcloud", url: "https://cloud.example.com/remote.php/dav/files/USER/ChatVault" },
  { id: "jianguoyun", label: "坚果云 Jianguoyun", url: "https://dav.jianguoyun.com/dav/ChatVault" },
  { id: "custom", label: "WebDAV", url: "" },
];

export type Built = { url: string; error: null } | { url: null; error: string };

/** `file://` URL of an absolute folder path (POSIX or Windows). */
export function localUrl(path: string): Built {
  const p = path.trim();
  if (p === "") return { url: null, error: "target.error.path_empty" };
  if (p.startsWith("/")) return { url: `file://${p}`, error: null };
  if (/^[A-Za-z]:[\\/]/.test(p)) return { url: `file:///${p.replace(/\\/g, "/")}`, error: null };
  return { url: null, error: "target.error.path_relative" };
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `text` as an http(s) URL, or null. */
function httpUrl(text: string): URL | null {
  try {
    const u = new URL(text.trim());
    return u.protocol === "https:" || u.protocol === "http:" ? u : null;
  } catch {
    return null;
  }
}

export function s3Url(f: S3Form): Built {
  if (!BUCKET.test(f.bucket.trim())) return { url: null, error: "target.error.bucket" };
  const endpoint = httpUrl(f.endpoint);
  if (!endpoint) return { url: null, error: "target.error.endpoint" };
  if (f.region.trim() === "") return { url: null, error: "target.error.region" };
  const prefix = f.prefix.trim().replace(/^\/+|\/+$/g, "");
  const params = new URLSearchParams({ endpoint: endpoint.toString().replace(/\/$/, ""), region: f.region.trim() });
  if (f.virtualHost) params.set("style", "virtual");
  return { url: `s3://${f.bucket.trim()}/${prefix}?${params.toString()}`, error: null };
}

export function webdavUrl(f: WebDavForm): Built {
  const u = httpUrl(f.url);
  if (!u) return { url: null, error: "target.error.webdav_url" };
  if (u.username || u.password) return { url: null, error: "target.error.credentials_in_url" };
  const user = f.user.trim() ? `${encodeURIComponent(f.user.trim())}@` : "";
  const scheme = u.protocol === "http:" ? "webdav+http" : "webdav+https";
  // The core refuses a password over plain http to another machine unless the URL opts in.
  const insecure = scheme === "webdav+http" && u.searchParams.get("insecure") === "1" ? "?insecure=1" : "";
  return { url: `${scheme}://${user}${u.host}${u.pathname.replace(/\/$/, "")}${insecure}`, error: null };
}
