package dev.dualcam.app

import ai.onnxruntime.OnnxTensor
import ai.onnxruntime.OrtEnvironment
import ai.onnxruntime.OrtSession
import ai.onnxruntime.providers.NNAPIFlags
import dev.dualcam.core.InferenceBackend
import dev.dualcam.core.Provider
import java.nio.FloatBuffer
import java.util.EnumSet

/**
 * One exported tile model in onnxruntime-android. NNAPI runs the 2-D mobile graph whole (CPU fallback disabled, so
 * a device that cannot take it fails loudly instead of silently running on the CPU); XNNPACK and the CPU provider
 * run the int8 model. Without the memory arena (the pair's memory plan decides) a tile needs about half the memory,
 * for some more time. Built only by Gradle, which adds the onnxruntime-android library.
 */
class OrtMobileBackend(model: ByteArray, provider: Provider, private val tileHeight: Int, private val tileWidth: Int,
                       private val maxDisparity: Int, memoryArena: Boolean) : InferenceBackend {
    private val environment = OrtEnvironment.getEnvironment()
    private val options = OrtSession.SessionOptions()
    private val session: OrtSession

    override val description = "onnxruntime-android ${provider.label}"

    init {
        options.setCPUArenaAllocator(memoryArena)
        options.setMemoryPatternOptimization(memoryArena)
        when (provider) {
            Provider.NNAPI -> {
                options.addNnapi(EnumSet.of(NNAPIFlags.USE_FP16))
                options.addConfigEntry("session.disable_cpu_ep_fallback", "1")
            }
            Provider.XNNPACK -> {
                // XNNPACK brings its own thread pool; onnxruntime's would only compete with it.
                options.setIntraOpNumThreads(1)
                options.addXnnpack(mapOf("intra_op_num_threads" to Runtime.getRuntime().availableProcessors().toString()))
            }
            Provider.CPU -> Unit
        }
        session = environment.createSession(model, options)
    }

    override fun runTile(monoY: FloatArray, refY: FloatArray, refCbcr: FloatArray): FloatArray {
        val h = tileHeight.toLong()
        val refWidth = (tileWidth + maxDisparity).toLong()
        OnnxTensor.createTensor(environment, FloatBuffer.wrap(monoY), longArrayOf(1, 1, h, tileWidth.toLong())).use { mono ->
            OnnxTensor.createTensor(environment, FloatBuffer.wrap(refY), longArrayOf(1, 1, h, refWidth)).use { y ->
                OnnxTensor.createTensor(environment, FloatBuffer.wrap(refCbcr), longArrayOf(1, 2, h, refWidth)).use { cbcr ->
                    session.run(mapOf("mono_y" to mono, "ref_y" to y, "ref_cbcr" to cbcr)).use { result ->
                        val out = (result.get(0) as OnnxTensor).floatBuffer
                        return FloatArray(out.remaining()).also { out.get(it) }
                    }
                }
            }
        }
    }

    override fun close() {
        session.close()
        options.close()
    }
}
