// Pure Kotlin: nothing from Android, so the same tests run in Android Studio, in Gradle and in `make test`.
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("org.jetbrains.kotlin.jvm")
}

// Java 17 bytecode from whichever JDK runs Gradle, as in app/: Java and Kotlin targets set alike, so the Kotlin
// plugin's target check agrees with them.
java {
    sourceCompatibility = JavaVersion.VERSION_17
    targetCompatibility = JavaVersion.VERSION_17
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

dependencies {
    testImplementation("junit:junit:4.13.2")
}

tasks.test {
    // The shipped models and their manifest, which the tests read and checksum.
    systemProperty("dualcam.models", rootProject.file("../runtime/models").absolutePath)
}
