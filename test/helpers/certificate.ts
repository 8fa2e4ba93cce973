// Throwaway self-signed certificates for 127.0.0.1, made with the system's openssl.
import { execFileSync } from "node:child_process";
import { join } from "node:path";

/** Writes `<name>.cert.pem` and `<name>.key.pem`, valid for `days`, into `dir` and returns their paths. */
export function selfSignedCertificate(dir: string, name: string, days = 1): { cert: string; key: string } {
  const cert = join(dir, `${name}.cert.pem`);
  const key = join(dir, `${name}.key.pem`);
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", key, "-out", cert, "-days", String(days), "-subj", `/CN=127.0.0.1 ${name}`],
      ...["-addext", "subjectAltName=IP:127.0.0.1"],
    ],
    { stdio: "ignore" },
  );
  return { cert, key };
}
