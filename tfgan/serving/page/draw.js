// Drawing on canvases: samples as images, and GAN Lab's pictures of the toys.

const REAL = "rgba(22, 128, 60, 0.35)";
const FAKE = "rgba(124, 58, 237, 0.85)";
const D_CURVE = "#c2410c";

// A canvas showing one image sample: nested [h][w][c] values in [0, 1].
export function imageCanvas(sample, label) {
  const height = sample.length;
  const width = sample[0].length;
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", label);
  const context = canvas.getContext("2d");
  const pixels = context.createImageData(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const value = sample[y][x];
      const [r, g, b] = value.length >= 3 ? value : [value[0], value[0], value[0]];
      const offset = 4 * (y * width + x);
      pixels.data[offset] = 255 * r;
      pixels.data[offset + 1] = 255 * g;
      pixels.data[offset + 2] = 255 * b;
      pixels.data[offset + 3] = value.length === 4 ? 255 * value[3] : 255;
    }
  }
  context.putImageData(pixels, 0, 0);
  return canvas;
}

// One canvas holding `rows` (arrays of same-sized canvases), `gap` pixels apart.
export function gridCanvas(rows, gap = 2) {
  const cell = rows[0][0];
  const columns = Math.max(...rows.map((row) => row.length));
  const grid = document.createElement("canvas");
  grid.width = columns * (cell.width + gap) + gap;
  grid.height = rows.length * (cell.height + gap) + gap;
  const context = grid.getContext("2d");
  context.fillStyle = "#fff";
  context.fillRect(0, 0, grid.width, grid.height);
  rows.forEach((row, r) => row.forEach((canvas, c) => {
    context.drawImage(canvas, gap + c * (cell.width + gap), gap + r * (cell.height + gap));
  }));
  return grid;
}

// The box [min, max] of each coordinate over all points, widened by a tenth on each side.
export function bounds(points, dimensions) {
  return Array.from({ length: dimensions }, (_, d) => {
    const values = points.map((p) => p[d]);
    const low = Math.min(...values);
    const high = Math.max(...values);
    const pad = 0.1 * (high - low || 1);
    return [low - pad, high + pad];
  });
}

// Cell centres of an n x n grid over a 2-D box, row by row from the top.
export function gridPoints([[x0, x1], [y0, y1]], n) {
  const points = [];
  for (let row = 0; row < n; row++) {
    for (let column = 0; column < n; column++) {
      points.push([x0 + (column + 0.5) * (x1 - x0) / n, y1 - (row + 0.5) * (y1 - y0) / n]);
    }
  }
  return points;
}

// D's probability of "real" as a colour: purple (fake) through white to green (real).
function probabilityColour(p) {
  const fake = [124, 58, 237];
  const real = [22, 163, 74];
  const [end, weight] = p < 0.5 ? [fake, 1 - 2 * p] : [real, 2 * p - 1];
  const [r, g, b] = end.map((c) => Math.round(255 + (c - 255) * weight * 0.9));
  return `rgb(${r}, ${g}, ${b})`;
}

function scale([low, high], size, flip = false) {
  return (value) => {
    const t = (value - low) / (high - low);
    return (flip ? 1 - t : t) * size;
  };
}

// The ends of an axis, written inside the plot: x along the bottom, y (if any) up the left.
function axisEnds(context, xBox, yBox) {
  const { width, height } = context.canvas;
  context.fillStyle = "#111827";
  context.font = "12px system-ui, sans-serif";
  context.textBaseline = "bottom";
  context.textAlign = "left";
  context.fillText(`x ${xBox[0].toPrecision(3)}`, 4, height - 2);
  context.textAlign = "right";
  context.fillText(`x ${xBox[1].toPrecision(3)}`, width - 4, height - 2);
  if (yBox) {
    context.textAlign = "left";
    context.fillText(`y ${yBox[1].toPrecision(3)}`, 4, 16);
    context.fillText(`y ${yBox[0].toPrecision(3)}`, 4, height - 16);
  }
}

// Seed 000's picture: D's decision surface as a heatmap, real points, generated points.
export function drawPoints2d(canvas, { box, n, probabilities, real, fake }) {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  const cellWidth = width / n;
  const cellHeight = height / n;
  probabilities.forEach((p, i) => {
    context.fillStyle = probabilityColour(p);
    context.fillRect((i % n) * cellWidth, Math.floor(i / n) * cellHeight,
      Math.ceil(cellWidth), Math.ceil(cellHeight));
  });
  const x = scale(box[0], width);
  const y = scale(box[1], height, true);
  for (const [points, colour, radius] of [[real, REAL, 3.5], [fake, FAKE, 2]]) {
    context.fillStyle = colour;
    for (const [px, py] of points) {
      context.beginPath();
      context.arc(x(px), y(py), radius, 0, 2 * Math.PI);
      context.fill();
    }
  }
  axisEnds(context, box[0], box[1]);
}

function histogram(values, [low, high], bins) {
  const counts = Array(bins).fill(0);
  for (const value of values) {
    const bin = Math.floor((value - low) / (high - low) * bins);
    if (bin >= 0 && bin < bins) counts[bin] += 1;
  }
  const width = (high - low) / bins;
  return counts.map((count) => count / (values.length * width));
}

// Seed 001's picture: the data's density, a histogram of the samples, and D(x) as a curve.
export function drawPoints1d(canvas, { box, real, fake, xs, probabilities }, bins = 50) {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  context.fillStyle = "#fff";
  context.fillRect(0, 0, width, height);
  const realDensity = histogram(real, box, bins);
  const fakeDensity = histogram(fake, box, bins);
  const top = Math.max(...realDensity, ...fakeDensity) * 1.1 || 1;
  const barWidth = width / bins;
  realDensity.forEach((density, i) => {
    context.fillStyle = REAL;
    context.fillRect(i * barWidth, height * (1 - density / top), barWidth, height * density / top);
  });
  fakeDensity.forEach((density, i) => {
    context.strokeStyle = FAKE;
    context.strokeRect(i * barWidth, height * (1 - density / top), barWidth, height * density / top);
  });
  const x = scale(box, width);
  context.strokeStyle = D_CURVE;
  context.lineWidth = 2;
  context.beginPath();
  xs.forEach((value, i) => {
    const py = height * (1 - probabilities[i]);
    if (i === 0) context.moveTo(x(value), py);
    else context.lineTo(x(value), py);
  });
  context.stroke();
  context.lineWidth = 1;
  axisEnds(context, box, null);
}
