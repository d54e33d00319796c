// What a served model can do, read from its metadata (the signature defs) alone.

function dims(tensorInfo) {
  return tensorInfo.tensor_shape.dim.map((dim) => Number(dim.size));
}

// An input that a signature may take: { rank } (0: one value for all samples), or null.
function optionalInput(signature, name) {
  const info = signature?.inputs?.[name];
  return info ? { rank: dims(info).length } : null;
}

// The model's description:
//   kind: "images" ([h, w, c] samples), "points2d" or "points1d";
//   sampleShape: the shape of one sample; zDim: the latent size;
//   signatures: the signature names served;
//   labels / truncation / rejection: per signature name, { rank } of that input where it
//     exists (rejection: the discriminator-guided sampling strength of a guided export);
//   classNames: the class names a server may add to its metadata answer
//     (`metadata.class_names`, beside `signature_def`), or null.
export function describeModel(metadata) {
  const signatures = metadata.metadata.signature_def.signature_def;
  const sample = signatures.sample;
  if (!sample || !signatures.serving_default) {
    throw new Error("This model has no `sample` and `serving_default` signatures: not a tfgan export.");
  }
  const sampleShape = dims(sample.outputs.samples).slice(1);
  const zDim = dims(signatures.serving_default.inputs.z)[1];
  const kind = sampleShape.length === 3 ? "images" : sampleShape[0] === 2 ? "points2d" : "points1d";
  const labels = {};
  const truncation = {};
  const rejection = {};
  for (const [name, signature] of Object.entries(signatures)) {
    const label = optionalInput(signature, "labels");
    const psi = optionalInput(signature, "truncation");
    const strength = optionalInput(signature, "rejection");
    if (label) labels[name] = label;
    if (psi) truncation[name] = psi;
    if (strength) rejection[name] = strength;
  }
  return {
    kind,
    sampleShape,
    zDim,
    signatures: Object.keys(signatures),
    labels,
    truncation,
    rejection,
    conditional: Object.keys(labels).length > 0,
    classNames: metadata.metadata.class_names ?? null,
  };
}

// The inputs of `signature` for a request: `base` plus labels, truncation and rejection where
// the signature takes them (REST names every input), each shaped as its input is (one value,
// or one per sample).
export function signatureInputs(model, signature, base, { label, count, psi, strength }) {
  const inputs = { ...base };
  const shaped = (input, value) => (input.rank === 0 ? value : Array(count).fill(value));
  const labels = model.labels[signature];
  if (labels) inputs.labels = shaped(labels, label);
  const truncation = model.truncation[signature];
  if (truncation) inputs.truncation = shaped(truncation, psi);
  const rejection = model.rejection[signature];
  if (rejection) inputs.rejection = shaped(rejection, strength);
  return inputs;
}
