// The sample page: picks a model and version, shows samples, walks the latent space and draws
// the toys, all through TF Serving's public REST API (see api.js).

import {
  ApiError, curlCommand, getMetadata, getStatus, parseSeed, predict, predictRequest,
} from "./api.js";
import {
  bounds, drawPoints1d, drawPoints2d, gridCanvas, gridPoints, imageCanvas,
} from "./draw.js";
import { lerp, looksNormal, slerp } from "./latent.js";
import { describeModel, signatureInputs } from "./model.js";

const RETRY_MS = 2000;
const DEFAULT_COUNT = { images: 16, points2d: 512, points1d: 1000 };
const REAL_POINTS = 1000;
const HEATMAP_CELLS = 48;
const CURVE_POINTS = 200;

const $ = (id) => document.getElementById(id);
const state = {
  model: null, // describeModel's answer for the chosen version
  gridRows: [], // canvases of the grid, one array per row, for the download
  walkLatents: null, // { key, za, zb, normal }
  requests: { samples: [], walk: [] }, // of the current view, for the curl commands
  waiting: false, // polling a server or model that went away
  serial: { show: 0, samples: 0, walk: 0 }, // a view draws (and says) only its latest answer
};

function say(text, pageState = "ready") {
  $("status").textContent = text;
  document.body.dataset.state = pageState;
}

function modelName() {
  return $("model").value;
}

function version() {
  return $("version").value;
}

function options(count) {
  return {
    label: Number($("class").value || 0),
    psi: Number($("truncation").value),
    strength: Number($("rejection").value),
    count,
  };
}

function sampleCount() {
  const count = Number($("num-samples").value);
  if (!Number.isInteger(count) || count < 1) {
    throw new ApiError("invalid", `Samples must be a whole number from 1 up; "${$("num-samples").value}" is not.`);
  }
  return count;
}

function fillSelect(select, entries, keep) {
  select.replaceChildren(...entries.map(([value, text]) => new Option(text, value)));
  if (entries.some(([value]) => value === keep)) select.value = keep;
}

function showCurl() {
  $("curl").textContent = [...state.requests.samples, ...state.requests.walk]
    .map(curlCommand).join("\n");
}

// Runs one step of the page; a failure is said in one line, and a server or model that went
// away is polled until it is back.
async function run(step) {
  try {
    await step();
  } catch (error) {
    const away = error instanceof ApiError && (error.kind === "down" || error.kind === "gone");
    say(away ? `${error.message} Trying again every ${RETRY_MS / 1000} s.` : error.message,
      "error");
    if (away) waitUntilBack();
  }
}

function waitUntilBack() {
  if (state.waiting) return;
  state.waiting = true;
  const poll = async () => {
    try {
      await getStatus(modelName());
    } catch {
      setTimeout(poll, RETRY_MS);
      return;
    }
    state.waiting = false;
    run(loadModel);
  };
  setTimeout(poll, RETRY_MS);
}

async function loadModel() {
  say(`Loading ${modelName()}…`, "loading");
  const status = await getStatus(modelName());
  const versions = status.model_version_status
    .filter((entry) => entry.state === "AVAILABLE")
    .map((entry) => entry.version)
    .sort((a, b) => (BigInt(b) > BigInt(a) ? 1 : -1))
    .map((number) => [number, number]);
  fillSelect($("version"), [["", "latest"], ...versions], version());
  await loadVersion();
}

async function loadVersion() {
  const previousKind = state.model?.kind;
  state.model = describeModel(await getMetadata(modelName(), version()));
  state.walkLatents = null;
  const { kind, conditional, truncation, rejection } = state.model;
  if (kind !== previousKind) $("num-samples").value = DEFAULT_COUNT[kind];
  $("class-controls").hidden = !conditional;
  $("num-classes-control").hidden = Boolean(state.model.classNames);
  if (conditional) fillClasses();
  $("truncation-control").hidden = Object.keys(truncation).length === 0;
  $("rejection-control").hidden = Object.keys(rejection).length === 0;
  const images = kind === "images";
  $("grid-view").hidden = !images;
  $("walk-view").hidden = !images;
  $("toy-view").hidden = images;
  await show();
}

function fillClasses() {
  const names = state.model.classNames
    ?? Array.from({ length: Number($("num-classes").value) || 10 }, (_, i) => `${i}`);
  fillSelect($("class"), names.map((name, i) => [`${i}`, name]), $("class").value);
}

function classNames() {
  return [...$("class").options].map((option) => option.text);
}

async function show() {
  const serial = ++state.serial.show;
  const seed = parseSeed($("seed").value);
  const count = sampleCount();
  if (state.model.kind === "images") {
    await Promise.all([showGrid(seed, count), showWalk()]);
  } else {
    state.requests.walk = [];
    await showToy(seed, count);
  }
  if (serial !== state.serial.show) return; // a later show says its own line
  const where = `${modelName()} ${version() ? `version ${version()}` : "(latest version)"}`;
  say(`${where}: ${count} samples from seed ${seed}.`);
}

function sampleRequest(seed, count, label) {
  const inputs = signatureInputs(state.model, "sample", { num_samples: count, seed },
    { ...options(count), label });
  return predictRequest(modelName(), version(), "sample", inputs);
}

async function showGrid(seed, count) {
  const serial = ++state.serial.samples;
  const perClass = state.model.conditional && $("per-class").checked;
  const labels = perClass ? classNames().map((_, i) => i) : [options(count).label];
  const requests = labels.map((label) => sampleRequest(seed, count, label));
  const answers = await Promise.all(requests.map((request) => predict(request, "samples")));
  if (serial !== state.serial.samples) return;
  const names = classNames();
  const grid = $("grid");
  grid.replaceChildren();
  state.gridRows = answers.map(({ samples }, row) => {
    if (perClass) {
      const heading = document.createElement("div");
      heading.className = "row-label";
      heading.textContent = `Class ${names[labels[row]]}`;
      grid.append(heading);
    }
    const canvases = samples.map((sample, i) => imageCanvas(sample, `Sample ${i + 1}`));
    grid.append(...canvases);
    return canvases;
  });
  state.requests.samples = requests;
  showCurl();
}

async function walkLatents(seedA, seedB) {
  // Every sampling input of the request is in the key: a new psi or strength moves the ends.
  const chosen = options(2);
  const key = [modelName(), version(), seedA, seedB, chosen.label, chosen.psi, chosen.strength]
    .join("/");
  if (state.walkLatents?.key !== key) {
    const inputs = signatureInputs(state.model, "sample_seeds", { seeds: [seedA, seedB] },
      chosen);
    const request = predictRequest(modelName(), version(), "sample_seeds", inputs);
    const { z } = await predict(request, "samples");
    state.walkLatents = { key, za: z[0], zb: z[1], normal: looksNormal(z[0], z[1]), request };
  }
  return state.walkLatents;
}

async function showWalk() {
  const serial = ++state.serial.walk;
  const seedA = parseSeed($("seed-a").value, "From seed");
  const seedB = parseSeed($("seed-b").value, "To seed");
  const latents = await walkLatents(seedA, seedB);
  const t = Number($("walk").value);
  // Eight significant digits: float32's precision, and a curl command a person can read.
  const z = (latents.normal ? slerp : lerp)(latents.za, latents.zb, t)
    .map((x) => Number(x.toPrecision(8)));
  const inputs = signatureInputs(state.model, "serving_default", { z: [z] }, options(1));
  const request = predictRequest(modelName(), version(), "serving_default", inputs);
  const { samples } = await predict(request, "samples");
  if (serial !== state.serial.walk) return;
  $("walk-image").replaceChildren(imageCanvas(samples[0], `Sample at position ${t}`));
  const how = latents.normal ? "spherical (a normal prior)" : "straight (a uniform prior)";
  $("walk-kind").textContent = `Position ${t} on the ${how} path from seed ${seedA} to seed ${seedB}.`;
  state.requests.walk = [latents.request, request];
  showCurl();
}

// Points per `discriminate` request: under a server's cap on samples per request (the
// embedded server's default is 1024).
const DISCRIMINATE_CHUNK = 512;

async function discriminate(points) {
  if (!state.model.signatures.includes("discriminate")) return null;
  const chunks = [];
  for (let start = 0; start < points.length; start += DISCRIMINATE_CHUNK) {
    const request = predictRequest(modelName(), version(), "discriminate",
      { samples: points.slice(start, start + DISCRIMINATE_CHUNK) });
    chunks.push(predict(request, "probability_real").then((answer) => answer.probability_real));
  }
  return (await Promise.all(chunks)).flat();
}

async function showToy(seed, count) {
  const serial = ++state.serial.samples;
  const fakeRequest = sampleRequest(seed, count, options(count).label);
  const hasReal = state.model.signatures.includes("real_samples");
  const realRequest = predictRequest(modelName(), version(), "real_samples",
    { num_samples: REAL_POINTS, seed });
  const [fake, real] = await Promise.all([
    predict(fakeRequest, "samples").then((answer) => answer.samples),
    hasReal ? predict(realRequest, "samples").then((answer) => answer.samples) : [],
  ]);
  const canvas = $("toy-plot");
  if (state.model.kind === "points2d") {
    const box = bounds([...real, ...fake], 2);
    const cells = gridPoints(box, HEATMAP_CELLS);
    const probabilities = (await discriminate(cells)) ?? cells.map(() => 0.5);
    if (serial !== state.serial.samples) return;
    drawPoints2d(canvas, { box, n: HEATMAP_CELLS, probabilities, real, fake });
    canvas.dataset.cells = probabilities.length;
  } else {
    const [box] = bounds([...real, ...fake], 1);
    const xs = Array.from({ length: CURVE_POINTS },
      (_, i) => box[0] + (i / (CURVE_POINTS - 1)) * (box[1] - box[0]));
    const probabilities = (await discriminate(xs.map((x) => [x]))) ?? [];
    if (serial !== state.serial.samples) return;
    drawPoints1d(canvas, { box, real: real.map((p) => p[0]), fake: fake.map((p) => p[0]),
      xs, probabilities });
    canvas.dataset.cells = probabilities.length;
  }
  canvas.dataset.real = real.length;
  canvas.dataset.fake = fake.length;
  $("toy-legend").textContent = [
    hasReal ? "Green: the real data." : "This export has no real_samples signature: no real data.",
    "Purple: generated points.",
    state.model.kind === "points2d"
      ? "Background: D's probability that a point is real (green: real, purple: fake)."
      : "Orange curve: D(x), the probability that x is real (bottom 0, top 1).",
  ].join(" ");
  state.requests.samples = hasReal ? [fakeRequest, realRequest] : [fakeRequest];
  showCurl();
}

// One row of samples (not one per class) is laid out square, as `tfgan-sample` does.
function squareRows(rows) {
  if (rows.length !== 1) return rows;
  const columns = Math.ceil(Math.sqrt(rows[0].length));
  return Array.from({ length: Math.ceil(rows[0].length / columns) },
    (_, r) => rows[0].slice(r * columns, (r + 1) * columns));
}

function download() {
  if (state.gridRows.length === 0) return;
  gridCanvas(squareRows(state.gridRows)).toBlob((blob) => {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `${modelName()}-seed${$("seed").value.trim()}.png`;
    link.click();
    URL.revokeObjectURL(link.href);
  }, "image/png");
}

function newSeed() {
  const [value] = crypto.getRandomValues(new Uint32Array(1));
  $("seed").value = `${value}`;
}

function start() {
  const names = new URLSearchParams(location.search).getAll("model");
  if (names.length === 0) {
    say("Name a model in the address, as in ?model=mnist (TF Serving cannot list its models).",
      "error");
    return;
  }
  fillSelect($("model"), names.map((name) => [name, name]));
  $("model").addEventListener("change", () => run(loadModel));
  $("version").addEventListener("change", () => run(loadVersion));
  $("controls").addEventListener("submit", (event) => {
    event.preventDefault();
    run(show);
  });
  $("new-samples").addEventListener("click", () => {
    newSeed();
    run(show);
  });
  $("class").addEventListener("change", () => run(show));
  $("per-class").addEventListener("change", () => run(show));
  $("num-classes").addEventListener("change", () => {
    fillClasses();
    run(show);
  });
  $("truncation").addEventListener("input", () => {
    $("truncation-value").textContent = $("truncation").value;
  });
  $("truncation").addEventListener("change", () => run(show));
  $("rejection").addEventListener("input", () => {
    $("rejection-value").textContent = $("rejection").value;
  });
  $("rejection").addEventListener("change", () => run(show));
  $("walk").addEventListener("input", () => run(showWalk));
  $("seed-a").addEventListener("change", () => run(showWalk));
  $("seed-b").addEventListener("change", () => run(showWalk));
  $("download").addEventListener("click", download);
  run(loadModel);
}

start();
