/**
 * The seal of a ready file off-site: its data object's ciphertext size and sha256, written inside
 * the item's encrypted description (uploaded after the data, read back with the identity). A
 * restore that checks the ciphertext against the seal as it downloads lets age write the plaintext
 * straight into the decompressor: the plaintext never passes through the controller. Equal
 * ciphertext decrypts to the plaintext that was sealed (age is deterministic on decryption and its
 * payload is authenticated), so the check is as strong as the plaintext sha256 it replaces; a
 * description without a seal (uploaded before it existed) is restored the old way.
 */

/** The field of an off-site ready description that carries the seal. */
export const SEAL_FIELD = 'offsite_object';

export interface Seal {
  bytes: number;
  sha256: string;
}

/** Pure: the description's text with the seal of its data object added. */
export function sealedText(info: object, seal: Seal): string {
  return (
    JSON.stringify({ ...info, [SEAL_FIELD]: { bytes: seal.bytes, sha256: seal.sha256 } }, null, 2) + '\n'
  );
}

/** Pure: the seal a description carries, if it carries a well-formed one. */
export function sealOf(info: object): Seal | undefined {
  const s = (info as Record<string, unknown>)[SEAL_FIELD];
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return undefined;
  const { bytes, sha256 } = s as Record<string, unknown>;
  if (
    typeof bytes !== 'number' ||
    !Number.isSafeInteger(bytes) ||
    bytes < 0 ||
    typeof sha256 !== 'string' ||
    !/^[0-9a-f]{64}$/.test(sha256)
  )
    return undefined;
  return { bytes, sha256 };
}
