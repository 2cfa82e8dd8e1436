using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace CacheGen.Redis;

/// <summary>
/// Turns values into envelopes and JSON back into values with System.Text.Json. Type information comes only from
/// the caller's <c>T</c> (through the configured resolver), never from the cached bytes.
/// </summary>
internal sealed class PayloadSerializer
{
    private readonly JsonSerializerOptions _options;
    private readonly JsonWriterOptions _writerOptions;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    public PayloadSerializer(JsonSerializerOptions? options)
    {
        _options = options ?? new JsonSerializerOptions(JsonSerializerDefaults.Web);
        // Freeze the options so lookups are cached. With no resolver given, use reflection where the app allows it;
        // a trimmed or Native AOT app (reflection off) must supply a JsonSerializerContext, and hears so at start.
        if (!_options.IsReadOnly)
        {
            if (_options.TypeInfoResolver is null)
            {
                if (!JsonSerializer.IsReflectionEnabledByDefault)
                    throw new InvalidOperationException(
                        "Reflection-based JSON serialization is disabled in this app (trimming or Native AOT): set "
                        + "CacheGenOptions.SerializerOptions.TypeInfoResolver to a JsonSerializerContext that lists the cached value types.");
                _options.TypeInfoResolver = ReflectionResolver();
            }
            _options.MakeReadOnly();
        }
        // A writer of our own ignores the serializer's formatting options unless they are copied over.
        _writerOptions = new JsonWriterOptions
        {
            Encoder = _options.Encoder,
            Indented = _options.WriteIndented,
            IndentCharacter = _options.IndentCharacter,
            IndentSize = _options.IndentSize,
            NewLine = _options.NewLine,
            MaxDepth = _options.MaxDepth,
            SkipValidation = true,
        };
    }

    // Only reached when JsonSerializer.IsReflectionEnabledByDefault is true, which a trimmed or AOT app turns off.
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Guarded by JsonSerializer.IsReflectionEnabledByDefault.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Guarded by JsonSerializer.IsReflectionEnabledByDefault.")]
    private static IJsonTypeInfoResolver ReflectionResolver() => new DefaultJsonTypeInfoResolver();

    private JsonTypeInfo<T> TypeInfo<T>() => (JsonTypeInfo<T>)_options.GetTypeInfo(typeof(T));

    /// <summary>
    /// Serializes <paramref name="value"/> once into a complete value envelope (fresh stamp, zero generations) and
    /// returns it with the offset of its JSON. Without Redis the caller passes <paramref name="tagCount"/> 0 and just
    /// uses the JSON.
    /// </summary>
    public byte[] CreateEnvelope<T>(T value, int tagCount, out int jsonOffset)
    {
        // Taken out of the slot while in use, so a converter that re-enters the cache cannot share it.
        ArrayBufferWriter<byte> buffer = t_buffer ?? new ArrayBufferWriter<byte>(1024);
        t_buffer = null;
        try
        {
            jsonOffset = Envelope.HeaderLength(tagCount);
            Envelope.WriteValueHeader(buffer.GetSpan(jsonOffset), tagCount);
            buffer.Advance(jsonOffset);
            using (var writer = new Utf8JsonWriter(buffer, _writerOptions))
                JsonSerializer.Serialize(writer, value, TypeInfo<T>());
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            // Keep the buffer for the thread's next value, unless one large value made it huge.
            if (buffer.Capacity <= 1 << 20)
            {
                buffer.ResetWrittenCount();
                t_buffer = buffer;
            }
        }
    }

    /// <summary>Reads a value; throws <see cref="JsonException"/> (or <see cref="NotSupportedException"/>) for a bad shape.</summary>
    public T Deserialize<T>(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize(json, TypeInfo<T>())!;
}
