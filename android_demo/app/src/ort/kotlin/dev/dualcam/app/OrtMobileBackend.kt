package dev.dualcam.app

import ai.onnxruntime.OnnxTensor
import ai.onnxruntime.OrtEnvironment
import ai.onnxruntime.OrtException
import ai.onnxruntime.OrtSession
import ai.onnxruntime.providers.NNAPIFlags
import dev.dualcam.core.InferenceBackend
import dev.dualcam.core.Provider
import dev.dualcam.core.ProviderError
import java.nio.FloatBuffer
import java.util.EnumSet

/**
 * One exported tile model in onnxruntime-android. NNAPI runs the 2-D mobile graph whole (CPU fallback disabled, so
 * a device that cannot take it fails loudly instead of silently running on the CPU); XNNPACK and the CPU provider
 * run the int8 model. Without the memory arena (the pair's memory plan decides) a tile needs about half the memory,
 * for some more time. onnxruntime's errors leave as ProviderError, which names the provider to try next. Built only
 * by Gradle, which adds the onnxruntime-android library.
 */
class OrtMobileBackend(model: ByteArray, private val provider: Provider, private val tileHeight: Int, private val tileWidth: Int,
                       private val maxDisparity: Int, memoryArena: Boolean) : InferenceBackend {
    private val environment = OrtEnvironment.getEnvironment()
    private val options = OrtSession.SessionOptions()
    private val session: OrtSession = try {
        configure(memoryArena)
        environment.createSession(model, options)
    } catch (error: Throwable) {
        options.close()  // nobody else can: the caller never gets this object
        throw if (error is OrtException) ProviderError(provider, error) else error
    }

    /** The provider that runs the tiles, as the report names it. */
    override val description = when (provider) {
        Provider.NNAPI -> "NNAPI (no CPU fallback)"
        Provider.XNNPACK -> "XNNPACK (CPU for the nodes XNNPACK lacks)"
        Provider.CPU -> "CPU"
    }

    private fun configure(memoryArena: Boolean) {
        options.setCPUArenaAllocator(memoryArena)
        options.setMemoryPatternOptimization(memoryArena)
        when (provider) {
            Provider.NNAPI -> {
                options.addNnapi(EnumSet.of(NNAPIFlags.USE_FP16))
                options.addConfigEntry("session.disable_cpu_ep_fallback", "1")
            }
            Provider.XNNPACK -> {
                // XNNPACK brings its own thread pool: onnxruntime's would only compete with it, and its idle threads
                // would spin on the cores XNNPACK needs (onnxruntime's recommended XNNPACK settings).
                options.setIntraOpNumThreads(1)
                options.addConfigEntry("session.intra_op.allow_spinning", "0")
                options.addXnnpack(mapOf("intra_op_num_threads" to Runtime.getRuntime().availableProcessors().toString()))
            }
            Provider.CPU -> Unit
        }
    }

    override fun runTile(monoY: FloatArray, refY: FloatArray, refCbcr: FloatArray): FloatArray {
        val h = tileHeight.toLong()
        val refWidth = (tileWidth + maxDisparity).toLong()
        try {
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
        } catch (error: OrtException) {
            throw ProviderError(provider, error)
        }
    }

    override fun close() {
        session.close()
        options.close()
    }
}
