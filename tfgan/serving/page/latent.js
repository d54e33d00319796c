// Walking the latent line between two latent vectors.

function norm(v) {
  return Math.hypot(...v);
}

// Linear interpolation: the straight line, right for a uniform prior on a cube.
export function lerp(a, b, t) {
  return a.map((x, i) => (1 - t) * x + t * b[i]);
}

// Spherical interpolation (Shoemake 1985; White 2016, https://arxiv.org/abs/1609.04468): the
// arc between a and b, whose points keep the norm a normal prior's samples have, where the
// straight line would pass through unlikely short vectors.
export function slerp(a, b, t) {
  const cosine = a.reduce((sum, x, i) => sum + x * b[i], 0) / (norm(a) * norm(b));
  const omega = Math.acos(Math.min(1, Math.max(-1, cosine)));
  if (omega < 1e-6) return lerp(a, b, t);
  const sine = Math.sin(omega);
  const wa = Math.sin((1 - t) * omega) / sine;
  const wb = Math.sin(t * omega) / sine;
  return a.map((x, i) => wa * x + wb * b[i]);
}

// The metadata does not name the prior: a coordinate outside [-1, 1] cannot come from the
// uniform prior, so the walk is spherical then (and for 100 normal coordinates, always is).
export function looksNormal(...vectors) {
  return vectors.some((v) => v.some((x) => Math.abs(x) > 1));
}
