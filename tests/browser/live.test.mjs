// `ziffer train --serve` in a real browser: Debian's Chromium, driven by playwright-core. The test
// starts a short training run itself (ZIFFER_BIN, the binary; the bundled MNIST), opens the page
// while it trains, and checks the live view: the curves drawn, the first layer's weight images,
// the confusion matrix; then that the page switches to the drawing view with the trained model
// when the run ends, and reads a drawing. Then the same on a phone-sized screen, without
// horizontal scrolling. No console error anywhere.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const binary = process.env.ZIFFER_BIN || "../../target/release/ziffer";
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const args = [
  "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
];

/** Starts a training run with --serve on a free port; resolves with the process and its URL. */
function startTraining(epochs) {
  const out = join(mkdtempSync(join(tmpdir(), "ziffer-live-")), "m.safetensors");
  const child = spawn(binary, ["train", "--limit", "20000", "--epochs", String(epochs), "--lr", "3",
    "--threads", "1", "--quiet", "--serve", "127.0.0.1:0", "--out", out]);
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
      const m = err.match(/http:\/\/[0-9.:]+\//);
      if (m) resolve({ child, url: m[0] });
    });
    child.on("exit", (code) => reject(new Error("ziffer exited with " + code + ": " + err)));
  });
}

async function watch(viewport, screenshot) {
  const { child, url } = await startTraining(8);
  const browser = await chromium.launch({ executablePath, args });
  try {
    const page = await browser.newPage({ viewport });
    const errors = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url);
    await page.waitForSelector("#training-panel:not([hidden])");

    // Mid-run: some epochs drawn, the weights and the confusion matrix of the last one.
    await page.waitForFunction(() => live && live.epochs.length >= 2, null, { timeout: 60000 });
    assert.equal(await page.locator("#training-weights canvas").count(), 128);
    await page.waitForFunction(() => document.querySelectorAll("#confusion tr").length === 11);
    const drawn = await page.evaluate(() => {
      const c = document.getElementById("accuracy-curve");
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let blue = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 2] > 150 && d[i] < 100 && d[i + 3] > 0) blue++;
      return blue;
    });
    assert.ok(drawn > 10, "the test accuracy curve is not drawn");
    if (screenshot) await page.locator("#training-panel").screenshot({ path: screenshot });
    if (viewport.width < 500) {
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(wide <= viewport.width, `the page is ${wide} px wide on a ${viewport.width} px screen`);
    }

    // The end: the drawing view with the trained model, without reloading.
    await page.waitForFunction(() => /finished after 8 epochs/.test(document.getElementById("training-status").textContent),
      null, { timeout: 120000 });
    await page.waitForFunction(() => /8 epochs/.test(document.getElementById("model-info").textContent));
    // The run may have ended before the screenshot above, which scrolls the training panel into
    // view: the page's own focus on the pad then came first, and the pad is off screen.
    await page.locator("#pad").scrollIntoViewIfNeeded();
    const pad = await page.locator("#pad").boundingBox();
    const x = pad.x + pad.width / 2;
    await page.mouse.move(x, pad.y + pad.height * 0.15);
    await page.mouse.down();
    for (let i = 1; i <= 20; i++) await page.mouse.move(x, pad.y + pad.height * (0.15 + 0.7 * i / 20));
    await page.mouse.up();
    await page.waitForFunction(() => /[0-9] \(/.test(document.getElementById("answer").textContent), null, { timeout: 10000 });
    assert.match(await page.locator("#answer").textContent(), /^1 \(/, "the trained model reads the stroke as a 1");
    assert.deepEqual(errors, [], "console errors");
  } finally {
    await browser.close();
    child.kill("SIGINT");
  }
}

test("the training view draws the run live, then the page reads with the trained model", async () => {
  await watch({ width: 1280, height: 1000 }, process.env.SCREENSHOT_LIVE || join(tmpdir(), "ziffer-live.png"));
});

test("the training view fits a phone-sized screen", async () => {
  await watch({ width: 390, height: 844 }, process.env.SCREENSHOT_PHONE);
});
