// How record data is shown. Data arrives as base64 (at most the preview the server sent); the
// page decodes it once and renders at most kShownBytes of it, so a 1 MiB record cannot freeze it.

export const kShownBytes = 4096;

export function base64ToBytes(base64) {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function bytesToBase64(bytes) {
  let binary = '';
  const chunk = 0x8000;  // String.fromCharCode takes its arguments on the stack
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

export const textToBase64 = (text) => bytesToBase64(new TextEncoder().encode(text));

const decoder = new TextDecoder('utf-8', { fatal: false });

export const FORMATS = ['text', 'json', 'hex', 'base64'];

// The record's data as the chosen format, cut to kShownBytes.
export function formatData(base64, format) {
  const bytes = base64ToBytes(base64).subarray(0, kShownBytes);
  switch (format) {
    case 'json': {
      const text = decoder.decode(bytes);
      try {
        return JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        return text;  // not JSON (or cut short): shown as text
      }
    }
    case 'hex':
      return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
    case 'base64':
      return bytesToBase64(bytes);
    default:
      return decoder.decode(bytes);
  }
}

export function formatTime(ms) {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
