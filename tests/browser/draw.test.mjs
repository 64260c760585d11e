// The ziffer page in a real browser: Debian's Chromium, driven by playwright-core (no browser
// download). Run by .ci/run against `ziffer serve` on a local port given as ZIFFER_URL.
//
// It draws a vertical stroke with the mouse (pointer events), then checks that the page shows a
// prediction, the 28x28 input the network received, every layer's activations and the first
// layer's weights; teaches the drawing as a 1 ("learn this") and checks the gradients shown; and
// that the browser logged no error.

import { test } from "node:test";
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const url = process.env.ZIFFER_URL || "http://127.0.0.1:8080/";
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";

test("drawing a stroke shows a prediction, the input and every layer, with no console error", async () => {
  const browser = await chromium.launch({
    executablePath,
    args: [
      // Playwright runs headless with a fresh profile of its own; as root Chromium needs
      // --no-sandbox, and the rest keeps it from calling out to the network.
      "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(String(e)));

    await page.goto(url);
    await page.waitForFunction(() => /parameters/.test(document.getElementById("model-info").textContent));

    // A vertical stroke down the middle of the drawing pad: a "1".
    const pad = await page.locator("#pad").boundingBox();
    const x = pad.x + pad.width / 2;
    await page.mouse.move(x, pad.y + pad.height * 0.15);
    await page.mouse.down();
    for (let i = 1; i <= 20; i++) {
      await page.mouse.move(x, pad.y + pad.height * (0.15 + 0.7 * i / 20));
    }
    await page.mouse.up();

    // The answer: a digit (and perhaps "Not sure: maybe ..."), no longer the placeholder.
    await page.waitForFunction(() => /[0-9]/.test(document.getElementById("answer").textContent), null, { timeout: 10000 });
    const answer = await page.locator("#answer").textContent();
    assert.match(answer, /[0-9] \(\d+(\.\d+)?%\)/);

    // The 28x28 input the network received has ink in it.
    const ink = await page.evaluate(() => {
      const canvas = document.getElementById("input");
      const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let bright = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i] > 128) bright++;
      return bright;
    });
    assert.ok(ink > 10, `the input image shows ${ink} bright pixels`);

    // Every layer's activations: two hidden layers of buttons and ten labelled outputs.
    const layers = await page.locator("#layers .layer").count();
    assert.equal(layers, 3);
    assert.equal(await page.locator("#layers .grid.output .cell").count(), 10);
    assert.ok(await page.locator("#weights canvas, #weights img, #weights button").count() > 0, "weights shown");

    // The network view: every neuron a dot, and lines for the strongest connections.
    assert.equal(await page.locator("#network circle").count(), 128 + 64 + 10);
    assert.equal(await page.locator("#network line").count(), 3 * 40);
    await page.locator("#network-panel").screenshot({ path: process.env.SCREENSHOT_NETWORK || join(tmpdir(), "ziffer-network.png") });

    // Clicking a hidden neuron shows what it looks for.
    await page.locator("#layers button.cell").first().click();
    assert.match(await page.locator("#neuron-title").textContent(), /looks for/);

    await page.screenshot({ path: process.env.SCREENSHOT || join(tmpdir(), "ziffer-page.png"), fullPage: false });

    // Teach it: the label the network read is chosen; pick "1", press "learn this", and the
    // page shows the output error, the gradients and the probabilities before and after.
    await page.locator("#labels button", { hasText: /^1$/ }).click();
    assert.equal(await page.locator("#labels button[aria-checked=true]").textContent(), "1");
    await page.locator("#learn").click();
    await page.waitForFunction(() => !document.getElementById("lesson").hidden, null, { timeout: 10000 });
    assert.match(await page.locator("#teach-status").textContent(), /Taught 1 with η = 0.5: its probability went from/);
    assert.equal(await page.locator("#output-error .bar").count(), 10);
    assert.equal(await page.locator("#gradients canvas").count(), 8);
    assert.equal(await page.locator("#before-after .bar").count(), 20);
    // The formulas link to their lines in the served docs/how-it-works.md.
    const href = await page.locator("a.formula[data-doc=output_error]").first().getAttribute("href");
    assert.match(href, /^\/how-it-works#L\d+$/);
    const docs = await page.request.get(new URL(href, url).toString());
    assert.match(await docs.text(), /dA\[L\] = A\[L\] − Y/);
    // The gradient images: only the drawn pixels move a weight, so they are not blank.
    const colored = await page.evaluate(() => {
      const c = document.querySelector("#gradients canvas");
      const d = c.getContext("2d").getImageData(0, 0, 28, 28).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 2]) n++;
      return n;
    });
    assert.ok(colored > 0, "the gradient image is blank");
    await page.locator("#teach-panel").screenshot({ path: process.env.SCREENSHOT_TEACH || join(tmpdir(), "ziffer-teach.png") });

    // From the keyboard alone: a test digit by its number, read, then taught with its label.
    await page.locator("#test-index").focus();
    await page.keyboard.press("Control+A");
    await page.keyboard.type("7");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => /Test digit 7 of 10,000, labelled 9/.test(document.getElementById("status").textContent));
    assert.equal(await page.locator("#labels button[aria-checked=true]").textContent(), "9");
    await page.waitForFunction(() => !document.getElementById("learn").disabled);
    await page.locator("#learn").focus();
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => /Taught 9/.test(document.getElementById("teach-status").textContent));
    assert.deepEqual(errors, [], "console errors");
  } finally {
    await browser.close();
  }
});
