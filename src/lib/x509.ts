// X.509 certificates, as far as verifying a signature with one needs: a PEM certificate's public key
// (SubjectPublicKeyInfo, for WebCrypto's "spki" import) and its validity period. Parsed with
// @peculiar/asn1-x509 (WebCrypto has no certificate parser); nothing else of the certificate is read
// and no chain is built: the merchant configures the provider's certificate itself (FPX's).

import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";

export interface CertificateKey {
  /** The DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  /** The validity period, in ms since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
}

const PEM = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/;

/** The key and validity of a PEM certificate, or null when it is not one. */
export function parseCertificate(pem: string): CertificateKey | null {
  const body = PEM.exec(pem)?.[1];
  if (body === undefined) return null;
  try {
    const der = Uint8Array.from(atob(body.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
    const { tbsCertificate } = AsnConvert.parse(der, Certificate);
    return {
      spki: new Uint8Array(AsnConvert.serialize(tbsCertificate.subjectPublicKeyInfo)),
      notBefore: tbsCertificate.validity.notBefore.getTime().getTime(),
      notAfter: tbsCertificate.validity.notAfter.getTime().getTime(),
    };
  } catch {
    return null;
  }
}

const keys = new Map<string, Promise<CryptoKey>>();

/** The certificate's RSA key for RSASSA-PKCS1-v1_5 with SHA-1 verification, imported once. */
export function rsaSha1Key(certificate: CertificateKey): Promise<CryptoKey> {
  const label = btoa(String.fromCharCode(...certificate.spki));
  let key = keys.get(label);
  if (key === undefined) {
    key = crypto.subtle.importKey("spki", certificate.spki, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-1" }, false, [
      "verify",
    ]);
    keys.set(label, key);
    key.catch(() => keys.delete(label));
  }
  return key;
}

/** Whether `signature` is the certificate's RSASSA-PKCS1-v1_5 SHA-1 signature of `message`, and the
 *  certificate within its validity period at `nowMs`. */
export async function rsaSha1Verifies(
  certificate: CertificateKey,
  signature: Uint8Array,
  message: string,
  nowMs: number,
): Promise<boolean> {
  if (nowMs < certificate.notBefore || nowMs > certificate.notAfter) return false;
  const key = await rsaSha1Key(certificate);
  return crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, signature, new TextEncoder().encode(message));
}
