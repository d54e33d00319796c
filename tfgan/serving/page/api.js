// TF Serving's public REST API, as the page uses it: status, metadata and predict, with
// errors turned into one line a person can read.

const INT64_MAX = (1n << 63n) - 1n;

// A failed request or a bad value: `kind` is "down" (no answer, or 502-504), "gone" (404),
// "refused" (another status) or "invalid" (refused before asking).
export class ApiError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

export function modelPath(model, version) {
  const name = encodeURIComponent(model);
  return version ? `v1/models/${name}/versions/${version}` : `v1/models/${name}`;
}

// JSON text in which BigInt values (seeds: int64) are written as plain integers.
export function jsonText(value) {
  return JSON.stringify(value, (key, item) => (typeof item === "bigint" ? `#int#${item}` : item))
    .replace(/"#int#(-?\d+)"/g, "$1");
}

// A seed typed by a person, as a BigInt; throws ApiError("invalid") naming what is wrong.
export function parseSeed(text, what = "Seed") {
  const trimmed = String(text).trim();
  if (!/^\d+$/.test(trimmed) || BigInt(trimmed) > INT64_MAX) {
    throw new ApiError("invalid",
      `${what} must be a whole number from 0 to ${INT64_MAX}; "${trimmed}" is not.`);
  }
  return BigInt(trimmed);
}

function firstLine(text) {
  const line = String(text).split("\n").find((part) => part.trim()) || "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line.trim();
}

async function call(path, body) {
  const options = body === undefined
    ? {}
    : { method: "POST", headers: { "Content-Type": "application/json" }, body: jsonText(body) };
  let answer;
  try {
    answer = await fetch(path, options);
  } catch {
    throw new ApiError("down", `The server at ${location.host} does not answer.`);
  }
  const text = await answer.text();
  if (answer.ok) {
    return JSON.parse(text);
  }
  let message = text;
  try {
    message = JSON.parse(text).error ?? text;
  } catch {
    // a proxy's HTML error page: its first line says enough
  }
  if (answer.status === 404) {
    throw new ApiError("gone", `Not served: ${firstLine(message)} (HTTP 404).`);
  }
  if (answer.status >= 502 && answer.status <= 504) {
    throw new ApiError("down", `The server is not ready: ${firstLine(message)} (HTTP ${answer.status}).`);
  }
  throw new ApiError("refused", `The server refused: ${firstLine(message)} (HTTP ${answer.status}).`);
}

export function getStatus(model) {
  return call(modelPath(model));
}

export function getMetadata(model, version) {
  return call(`${modelPath(model, version)}/metadata`);
}

// A columnar predict request: `inputs` maps input names to values.
export function predictRequest(model, version, signature, inputs) {
  return {
    path: `${modelPath(model, version)}:predict`,
    body: { signature_name: signature, inputs },
  };
}

// Runs a `predictRequest`; returns the named outputs as an object (one output comes back
// unnamed in TF Serving's answer, under `outputName`).
export async function predict(request, outputName) {
  const { outputs } = await call(request.path, request.body);
  return Array.isArray(outputs) ? { [outputName]: outputs } : outputs;
}

export function curlCommand(request) {
  const url = new URL(request.path, location.href).href;
  return `curl -d '${jsonText(request.body)}' ${url}`;
}
