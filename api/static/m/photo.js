/* Photos taken with the phone's camera, shrunk on the phone before they are kept or sent: the longer side
 * to at most `maxPx` pixels, as JPEG, so a 12-megapixel photo (4–8 MB) becomes a few hundred kilobytes on
 * a weak network. */

function loadImage(file) {
  if (window.createImageBitmap) {
    return createImageBitmap(file, { imageOrientation: 'from-image' }).catch(function () { return viaElement(file); });
  }
  return viaElement(file);
}

function viaElement(file) {
  return new Promise(function (resolve, reject) {
    const url = URL.createObjectURL(file);
    const image = new Image();
    image.onload = function () { URL.revokeObjectURL(url); resolve(image); };
    image.onerror = function () { URL.revokeObjectURL(url); reject(new Error('not an image')); };
    image.src = url;
  });
}

/** A JPEG Blob of `file` whose longer side is at most `maxPx`. */
export async function shrink(file, maxPx, quality) {
  const image = await loadImage(file);
  const width = image.width;
  const height = image.height;
  const scale = Math.min(1, maxPx / Math.max(width, height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const context = canvas.getContext('2d');
  context.fillStyle = '#ffffff'; // a transparent PNG gets a white background, not black
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(image, 0, 0, canvas.width, canvas.height);
  if (image.close) image.close();
  return new Promise(function (resolve, reject) {
    canvas.toBlob(function (blob) {
      if (blob) resolve(blob); else reject(new Error('the photo could not be encoded'));
    }, 'image/jpeg', quality);
  });
}

/** Thumbnails of the photos kept for one form, each with a button to drop it. */
export function showThumbs(box, photos, onRemove, removeLabel) {
  box.replaceChildren();
  photos.forEach(function (blob, index) {
    const figure = document.createElement('figure');
    const img = document.createElement('img');
    img.src = URL.createObjectURL(blob);
    img.alt = '';
    const drop = document.createElement('button');
    drop.type = 'button';
    drop.textContent = '×';
    drop.setAttribute('aria-label', removeLabel);
    drop.addEventListener('click', function () { onRemove(index); });
    const size = document.createElement('figcaption');
    size.textContent = Math.round(blob.size / 1024) + ' KB';
    figure.append(img, drop, size);
    box.append(figure);
  });
}
