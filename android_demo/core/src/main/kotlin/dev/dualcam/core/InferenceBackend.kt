package dev.dualcam.core

import java.io.Closeable

/**
 * Runs the exported model on one fixed tile. The arrays are the model's own NCHW float32 inputs, batch 1:
 * mono Y (tileHeight x tileWidth), reference Y (tileHeight x (tileWidth + d)) and reference Cb then Cr planes
 * (2 x tileHeight x (tileWidth + d)), BT.601 full range on [0, 1]; the result is Cb then Cr of the mono tile
 * (2 x tileHeight x tileWidth). onnxruntime-android runs it on the phone, a JNI bridge to onnxruntime's C API
 * on the desktop JVM: the core does not care which.
 */
interface InferenceBackend : Closeable {
    /** Which engine and execution provider run the tiles, for reports. */
    val description: String

    fun runTile(monoY: FloatArray, refY: FloatArray, refCbcr: FloatArray): FloatArray
}
