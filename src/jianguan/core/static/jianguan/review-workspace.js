// The review workspace's inline preview (review/workspace.html): a PDF is drawn page by page onto canvases by the
// vendored PDF.js (it reads the bytes; the browser never opens the upload as a page), an image is an <img>.
// Loaded as a module; PDF.js is imported the first time a PDF is previewed.
const root = document.querySelector("[data-pdfjs]");
const MAX_PAGES = 30;
let library = null;

function pdfjs() {
  if (!library) {
    library = import(root.dataset.pdfjs).then((lib) => {
      lib.GlobalWorkerOptions.workerSrc = root.dataset.pdfjsWorker;
      return lib;
    });
  }
  return library;
}

function note(target, text) {
  const p = document.createElement("p");
  p.className = "muted";
  p.textContent = text;
  target.append(p);
}

async function showPdf(url, target) {
  const lib = await pdfjs();
  const doc = await lib.getDocument({
    url,
    cMapUrl: root.dataset.pdfjsCmaps,
    cMapPacked: true,
    standardFontDataUrl: root.dataset.pdfjsFonts,
    useWasm: false,
    enableXfa: false,
  }).promise;
  const pages = Math.min(doc.numPages, MAX_PAGES);
  note(target, `共 ${doc.numPages} 页` + (doc.numPages > MAX_PAGES ? `，预览前 ${MAX_PAGES} 页，全部内容请下载查看` : ""));
  const width = Math.max(target.clientWidth - 12, 240);
  const ratio = window.devicePixelRatio || 1;
  for (let n = 1; n <= pages; n += 1) {
    const page = await doc.getPage(n);
    const base = page.getViewport({ scale: 1 });
    const viewport = page.getViewport({ scale: (width / base.width) * ratio });
    const canvas = document.createElement("canvas");
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    canvas.setAttribute("aria-label", `第 ${n} 页`);
    canvas.dataset.page = String(n);
    target.append(canvas);
    await page.render({ canvas, viewport }).promise;
  }
  target.dataset.rendered = String(pages);
}

function showImage(url, target) {
  const img = document.createElement("img");
  img.alt = "文件预览";
  img.src = url;
  target.append(img);
  target.dataset.rendered = "1";
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-preview]");
  if (!button || button.disabled) return;
  const target = document.getElementById(button.dataset.target);
  if (!target) return;
  if (!target.hidden && target.dataset.url === button.dataset.preview) {
    target.hidden = true;
    target.dataset.url = "";
    return;
  }
  target.replaceChildren();
  target.hidden = false;
  target.dataset.url = button.dataset.preview;
  delete target.dataset.rendered;
  try {
    if (button.dataset.previewKind === "pdf") {
      await showPdf(button.dataset.preview, target);
    } else {
      showImage(button.dataset.preview, target);
    }
  } catch (error) {
    note(target, `无法预览：${error && error.message ? error.message : error}。请下载查看。`);
    target.dataset.rendered = "error";
  }
});
