// The page of `pixinwav serve`: two forms over the HTTP API (POST /api/hide, /api/reveal, /api/capacity), drag and
// drop, progress, the stego beside the cover, and their spectrograms and difference computed here from the audio.
"use strict";

const $ = (id) => document.getElementById(id);

async function loadModels() {
  const models = await (await fetch("/api/models")).json();
  // a receiver rarely knows the model: by default the server finds it from the marks in the file
  $("reveal-model").add(new Option("found from the file (whichever model hid it)", "", true, true));
  for (const select of [$("hide-model"), $("reveal-model")]) {
    for (const m of models) {
      const chosen = m.default && select === $("hide-model");
      const option = new Option(`${m.purpose} (${m.name})`, m.name, chosen, chosen);
      option.dataset.files = m.carries_files;
      option.dataset.survive = m.sizes_to_survive;
      select.add(option);
    }
  }
  $("hide-model").addEventListener("change", () => { updateAs(); showCapacity(); });
  updateAs();
}

// "send the file exactly" only where the chosen model carries files; the re-encoding check only where it sizes
// its photo to one (a disabled field is not sent)
function updateAs() {
  const chosen = $("hide-model").selectedOptions[0]?.dataset || {};
  const files = chosen.files === "true", survive = chosen.survive === "true";
  $("survive-choice").hidden = !survive;
  $("survive").disabled = !survive;
  const fileChoice = document.querySelector('input[name=as][value=file]');
  fileChoice.disabled = !files;
  if (!files) document.querySelector('input[name=as][value=image]').checked = true;
  $("secret").name = document.querySelector('input[name=as]:checked').value;
}
document.querySelectorAll("input[name=as]").forEach((r) => r.addEventListener("change", updateAs));

// drop zones: a file dropped on the zone goes into its input
document.querySelectorAll(".drop").forEach((zone) => {
  const input = $(zone.dataset.input);
  const name = $(`${zone.dataset.input}-name`);
  const show = () => { if (input.files.length) name.textContent = `${input.files[0].name} (${(input.files[0].size / 1e6).toFixed(2)} MB)`; };
  input.addEventListener("change", show);
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    if (e.dataTransfer.files.length) {
      input.files = e.dataTransfer.files;
      input.dispatchEvent(new Event("change"));
    }
  });
});

// a request with upload progress; resolves to {status, headers, body: Blob}
function send(url, form, progress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.responseType = "blob";
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) { progress.max = e.total; progress.value = e.loaded; } };
    xhr.upload.onload = () => progress.removeAttribute("value"); // uploaded: now the work, of unknown length
    xhr.onload = () => resolve({ status: xhr.status, header: (h) => xhr.getResponseHeader(h), body: xhr.response });
    xhr.onerror = () => reject(new Error("the server did not answer"));
    xhr.send(form);
  });
}

async function errorOf(response) {
  try { return JSON.parse(await response.body.text()).error; } catch { return `error ${response.status}`; }
}

function busy(prefix, on, text) {
  $(`${prefix}-button`).disabled = on;
  $(`${prefix}-progress`).hidden = !on;
  const status = $(`${prefix}-status`);
  status.textContent = text || "";
  status.classList.toggle("error", false);
}

function failed(prefix, text) {
  busy(prefix, false);
  const status = $(`${prefix}-status`);
  status.textContent = text;
  status.classList.add("error");
}

async function showCapacity() {
  const cover = $("cover").files[0];
  if (!cover) return;
  const form = new FormData();
  form.append("audio", cover);
  form.append("model", $("hide-model").value);
  $("capacity").textContent = "measuring what this song carries...";
  const r = await fetch("/api/capacity", { method: "POST", body: form });
  const body = await r.json();
  $("capacity").textContent = r.ok ? `${body.seconds.toFixed(1)} s: ${body.lines.join("; ")}` : body.error;
}
$("cover").addEventListener("change", showCapacity);

$("hide-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  updateAs();
  const form = new FormData($("hide-form"));
  form.delete("as");
  const checked = form.get("survive");
  busy("hide", true, checked ? "uploading, then hiding and reading it back through the codec (up to three tries)..."
    : "uploading, then hiding...");
  $("hide-result").hidden = true;
  let response;
  try { response = await send("/api/hide", form, $("hide-progress")); } catch (err) { return failed("hide", err.message); }
  if (response.status !== 200) return failed("hide", await errorOf(response));
  const report = JSON.parse(response.header("X-Pixinwav-Report"));
  const stegoUrl = URL.createObjectURL(response.body);
  const cover = $("cover").files[0];
  $("cover-audio").src = URL.createObjectURL(cover);
  $("stego-audio").src = stegoUrl;
  const download = $("stego-download");
  download.href = stegoUrl;
  download.download = `${cover.name.replace(/\.[^.]*$/, "")}-stego.${form.get("format")}`;
  const facts = [`audio SNR ${report.snr_db.toFixed(1)} dB (the song against the change)`,
    `${report.seconds_used.toFixed(1)} s of the ${report.seconds.toFixed(1)} s song carry it`];
  if (report.payload.line) facts.push(report.payload.line);  // what was sent and where, as `pixinwav hide` says it
  $("hide-facts").replaceChildren(...facts.map((t) => Object.assign(document.createElement("li"), { textContent: t })),
    ...report.warnings.map((t) => Object.assign(document.createElement("li"), { textContent: `warning: ${t}`, className: "warning" })));
  busy("hide", false, "done");
  $("hide-result").hidden = false;
  drawSpectrograms(cover, response.body, report.first_window_s || 0).catch(() => {
    $("spectrograms").textContent = "(this browser could not decode the audio to draw its spectrograms)";
  });
});

$("reveal-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData($("reveal-form"));
  busy("reveal", true, "uploading, then revealing...");
  $("reveal-result").hidden = true;
  let response;
  try { response = await send("/api/reveal", form, $("reveal-progress")); } catch (err) { return failed("reveal", err.message); }
  const verdict = $("verdict");
  if (response.status !== 200) {
    busy("reveal", false);
    verdict.textContent = `Nothing revealed: ${await errorOf(response)}`;
    verdict.className = "verdict none";
    $("revealed").hidden = true;
    $("revealed-download").hidden = true;
    $("reveal-result").hidden = false;
    return;
  }
  const detail = response.header("X-Pixinwav-Detail") || "";
  const damaged = response.header("X-Pixinwav-Verdict") === "damaged";
  verdict.textContent = `${damaged ? "Found, but damaged" : "Found"}: ${detail}`;
  verdict.className = `verdict ${damaged ? "damaged" : "found"}`;
  const url = URL.createObjectURL(response.body);
  const name = decodeURIComponent((response.header("Content-Disposition") || "").split("''")[1] || "revealed.bin");
  const isImage = (response.header("Content-Type") || "").startsWith("image/");
  $("revealed").hidden = !isImage;
  if (isImage) $("revealed").src = url;
  const download = $("revealed-download");
  download.hidden = false;
  download.href = url;
  download.download = name;
  download.textContent = isImage ? "Download the photo" : `Download the hidden file (${name})`;
  busy("reveal", false, "done");
  $("reveal-result").hidden = false;
});

// --- spectrograms: cover, stego and their difference, 6 s from where the payload starts ---------------------------
async function drawSpectrograms(coverFile, stegoBlob, from) {
  const context = new OfflineAudioContext(1, 1, 44100);
  const [cover, stego] = await Promise.all([coverFile.arrayBuffer(), stegoBlob.arrayBuffer()]
    .map(async (b) => context.decodeAudioData(await b)));
  const box = $("spectrograms");
  box.replaceChildren();
  const mono = (buffer) => {
    const start = Math.min(Math.floor(from * buffer.sampleRate), Math.max(0, buffer.length - 6 * buffer.sampleRate));
    const n = Math.min(buffer.length - start, Math.floor(6 * buffer.sampleRate));
    const out = new Float32Array(n);
    for (let c = 0; c < buffer.numberOfChannels; c++) {
      const data = buffer.getChannelData(c);
      for (let i = 0; i < n; i++) out[i] += data[start + i] / buffer.numberOfChannels;
    }
    return out;
  };
  const a = mono(cover), b = mono(stego);
  const rows = [["the song", a], ["with the photo in it", b]];
  if (cover.sampleRate === stego.sampleRate && a.length === b.length) {
    rows.push(["the difference (what was added)", b.map((v, i) => v - a[i])]);
  }
  for (const [title, samples] of rows) {
    const figure = document.createElement("figure");
    const canvas = document.createElement("canvas");
    figure.append(Object.assign(document.createElement("figcaption"), { textContent: `${title}, from ${from.toFixed(1)} s` }), canvas);
    box.append(figure);
    spectrogram(canvas, samples);
  }
}

function spectrogram(canvas, samples) {
  const size = 1024, columns = 480, bins = size / 2;
  const hop = Math.max(1, Math.floor((samples.length - size) / columns));
  canvas.width = columns;
  canvas.height = 200;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(columns, canvas.height);
  const re = new Float32Array(size), im = new Float32Array(size);
  for (let x = 0; x < columns; x++) {
    for (let i = 0; i < size; i++) {
      const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size);
      re[i] = (samples[x * hop + i] || 0) * w;
      im[i] = 0;
    }
    fft(re, im);
    for (let y = 0; y < canvas.height; y++) {
      const k = Math.min(bins - 1, Math.floor(((canvas.height - 1 - y) / canvas.height) * bins));
      const amplitude = Math.hypot(re[k], im[k]) / (size / 4); // a full-scale sine reads 0 dB (Hann window)
      const db = 20 * Math.log10(amplitude + 1e-12);
      const v = Math.max(0, Math.min(1, (db + 130) / 120)); // -130 dB (under the 16-bit floor) to -10 dB
      const p = 4 * (y * columns + x);
      image.data[p] = 255 * Math.min(1, 1.8 * v); // black, through purple and orange, to pale yellow
      image.data[p + 1] = 255 * Math.max(0, Math.min(1, 1.8 * v - 0.8));
      image.data[p + 2] = 255 * Math.max(0, Math.min(0.5, v) - Math.max(0, v - 0.5) + Math.max(0, v - 0.85) * 4);
      image.data[p + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
}

function fft(re, im) { // in place, radix 2
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) { [re[i], re[j]] = [re[j], re[i]]; [im[i], im[j]] = [im[j], im[i]]; }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const angle = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const c = Math.cos(angle * k), s = Math.sin(angle * k);
        const xr = re[i + k + len / 2] * c - im[i + k + len / 2] * s, xi = re[i + k + len / 2] * s + im[i + k + len / 2] * c;
        re[i + k + len / 2] = re[i + k] - xr; im[i + k + len / 2] = im[i + k] - xi;
        re[i + k] += xr; im[i + k] += xi;
      }
    }
  }
}

loadModels();
