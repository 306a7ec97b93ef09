package dev.dualcam.desktop

import dev.dualcam.core.InferenceBackend
import java.io.File

/**
 * The exported model run by onnxruntime's C API through a small JNI bridge (src/main/c/ort_jni.c), on the CPU
 * execution provider with the Python runtime's session options: the desktop stand-in for onnxruntime-android,
 * so the Kotlin pipeline is tested end to end against dualcam-run with the same kernels.
 */
class NativeOrtBackend(model: File, private val tileHeight: Int, private val tileWidth: Int, private val maxDisparity: Int,
                       threads: Int = 0, memoryArena: Boolean = true) : InferenceBackend {
    private var session: Long = open(model.path, threads, memoryArena)

    override val description = "onnxruntime ${version()} CPUExecutionProvider (JNI)"

    override fun runTile(monoY: FloatArray, refY: FloatArray, refCbcr: FloatArray): FloatArray {
        check(session != 0L) { "the session is closed" }
        require(monoY.size == tileHeight * tileWidth && refY.size == tileHeight * (tileWidth + maxDisparity) && refCbcr.size == 2 * refY.size) {
            "inputs do not fit the model's ${tileHeight}x$tileWidth tile with d = $maxDisparity"
        }
        val cbcr = FloatArray(2 * tileHeight * tileWidth)
        run(session, monoY, refY, refCbcr, tileHeight, tileWidth, maxDisparity, cbcr)
        return cbcr
    }

    override fun close() {
        if (session != 0L) close(session)
        session = 0L
    }

    companion object {
        /** Loads the bridge named by -Ddualcam.jni (the build puts it next to the jars). */
        init {
            System.load(File(System.getProperty("dualcam.jni") ?: error("set -Ddualcam.jni to libdualcam_ort_jni.so")).absolutePath)
        }

        @JvmStatic private external fun version(): String
        @JvmStatic private external fun open(path: String, threads: Int, arena: Boolean): Long
        @JvmStatic private external fun run(session: Long, mono: FloatArray, refY: FloatArray, refCbcr: FloatArray,
                                            h: Int, w: Int, d: Int, result: FloatArray)
        @JvmStatic private external fun close(session: Long)
    }
}
