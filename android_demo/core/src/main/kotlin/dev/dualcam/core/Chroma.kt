package dev.dualcam.core

/** The model's chroma at the working scale, in the mono image's orientation, and the tiles that made it. */
class Prediction(val cbcr: FloatImage, val grid: TileGrid, val modelSeconds: Double)

/**
 * The chroma of the mono view (dualcam.runtime.chroma): the pair into the network's frame -> the model, tile by
 * tile -> chroma filter guided by the mono image -> back to the mono image's orientation (`predict`); then guided
 * upsampling to full resolution and the YCbCr merge (`merge`). The model is any backend: onnxruntime, or a probe
 * function in the tests, as the runtime's golden vectors are made.
 */
object Chroma {
    /** (H, W, 1) mono Y and (H, W, 3) colour RGB, both as given, through `backend` tile by tile, in `arrangement`. */
    fun predict(monoY: FloatImage, colorRgb: FloatImage, arrangement: Arrangement, manifest: ModelManifest,
                backend: InferenceBackend, chromaFilter: Boolean = true, progress: ((Int, Int) -> Unit)? = null): Prediction {
        val mono = arrangement.mono(monoY)
        val reference = arrangement.reference(colorRgb)
        val grid = manifest.grid(mono.height, mono.width)
        val start = System.nanoTime()
        val cbcr = grid.run(backend, mono, reference, progress)
        val modelSeconds = (System.nanoTime() - start) / 1e9
        val filtered = if (chromaFilter) Guided.filter(mono, cbcr) else cbcr
        return Prediction(arrangement.restore(filtered), grid, modelSeconds)
    }

    /** RGB on [0, 1] with the (H, W, 1) mono image as luma and Cb/Cr guided-upsampled from the working scale. */
    fun merge(monoY: FloatImage, cbcrLow: FloatImage): FloatImage = Color.merge(monoY, ChromaScale.upscale(monoY, cbcrLow))
}
