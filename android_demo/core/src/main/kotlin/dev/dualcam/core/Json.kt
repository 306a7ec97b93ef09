package dev.dualcam.core

/**
 * A small JSON reader for manifest.json and the golden vectors. The core depends on nothing but the Kotlin
 * standard library, so the same code runs on the JVM and on Android (where org.json exists but the JVM lacks it).
 * Objects become Map<String, Any?>, arrays List<Any?>, numbers Double.
 */
object Json {
    fun parse(text: String): Any? {
        val reader = Reader(text)
        val value = reader.value()
        reader.skipSpace()
        if (reader.pos != text.length) reader.fail("trailing characters")
        return value
    }

    private class Reader(val text: String) {
        var pos = 0

        fun fail(what: String): Nothing = throw IllegalArgumentException("JSON: $what at character $pos")

        fun skipSpace() {
            while (pos < text.length && text[pos].isWhitespace()) pos++
        }

        fun value(): Any? {
            skipSpace()
            if (pos >= text.length) fail("unexpected end")
            return when (text[pos]) {
                '{' -> obj()
                '[' -> array()
                '"' -> string()
                't' -> literal("true", true)
                'f' -> literal("false", false)
                'n' -> literal("null", null)
                else -> number()
            }
        }

        private fun literal(word: String, result: Any?): Any? {
            if (!text.startsWith(word, pos)) fail("unknown word")
            pos += word.length
            return result
        }

        private fun expect(c: Char) {
            skipSpace()
            if (pos >= text.length || text[pos] != c) fail("expected '$c'")
            pos++
        }

        private fun obj(): Map<String, Any?> {
            val result = LinkedHashMap<String, Any?>()
            expect('{')
            skipSpace()
            if (text[pos] == '}') return result.also { pos++ }
            while (true) {
                skipSpace()
                val key = string()
                expect(':')
                result[key] = value()
                skipSpace()
                if (pos < text.length && text[pos] == ',') pos++ else break
            }
            expect('}')
            return result
        }

        private fun array(): List<Any?> {
            val result = ArrayList<Any?>()
            expect('[')
            skipSpace()
            if (text[pos] == ']') return result.also { pos++ }
            while (true) {
                result.add(value())
                skipSpace()
                if (pos < text.length && text[pos] == ',') pos++ else break
            }
            expect(']')
            return result
        }

        private fun string(): String {
            if (text[pos] != '"') fail("expected a string")
            pos++
            val out = StringBuilder()
            while (true) {
                if (pos >= text.length) fail("unterminated string")
                val c = text[pos++]
                when (c) {
                    '"' -> return out.toString()
                    '\\' -> {
                        val e = text[pos++]
                        when (e) {
                            'n' -> out.append('\n')
                            't' -> out.append('\t')
                            'r' -> out.append('\r')
                            'b' -> out.append('\b')
                            'f' -> out.append('\u000c')
                            'u' -> out.append(text.substring(pos, pos + 4).toInt(16).toChar()).also { pos += 4 }
                            else -> out.append(e)
                        }
                    }
                    else -> out.append(c)
                }
            }
        }

        private fun number(): Double {
            val start = pos
            while (pos < text.length && text[pos] in "+-0123456789.eE") pos++
            if (pos == start) fail("unexpected character '${text[pos]}'")
            return text.substring(start, pos).toDoubleOrNull() ?: fail("bad number")
        }
    }
}

/** Typed access to a parsed JSON object, failing with the key's name rather than a ClassCastException. */
fun Map<String, Any?>.obj(key: String): Map<String, Any?> =
    (this[key] as? Map<*, *>)?.let { map -> map.entries.associate { it.key as String to it.value } }
        ?: throw IllegalArgumentException("no object '$key'")

fun Map<String, Any?>.number(key: String): Double =
    this[key] as? Double ?: throw IllegalArgumentException("no number '$key'")

fun Map<String, Any?>.int(key: String): Int = number(key).toInt()

fun Map<String, Any?>.text(key: String): String =
    this[key] as? String ?: throw IllegalArgumentException("no string '$key'")
