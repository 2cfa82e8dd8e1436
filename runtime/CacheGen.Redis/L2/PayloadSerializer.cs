using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace CacheGen.Redis;

/// <summary>
/// Turns values into envelopes and JSON back into values with System.Text.Json. Type information comes only from
/// the caller's <c>T</c> (through the configured resolver), never from the cached bytes. A <see cref="JsonPayload"/> is
/// stored as its own bytes and handed back over the bytes read, with no JSON parsed or written either way; a null
/// payload is stored as no bytes at all.
/// </summary>
internal sealed class PayloadSerializer
{
    private readonly JsonSerializerOptions _options;
    private readonly JsonWriterOptions _writerOptions;
    private readonly ConcurrentDictionary<Type, ulong> _schemas = new();

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    public PayloadSerializer(JsonSerializerOptions? options)
    {
        // The default options read back what System.Text.Json can: fields too, so value tuples and field-only types
        // keep their data (as Microsoft's HybridCache does for them). Options the app supplies are used as they are.
        _options = options ?? new JsonSerializerOptions(JsonSerializerDefaults.Web) { IncludeFields = true };
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
    /// A hash of <typeparamref name="T"/>'s JSON contract: type names, property names and types, required-ness and
    /// enum members, through nested types. A deploy that changes any of them reads old entries as misses.
    /// </summary>
    public ulong SchemaOf<T>() => _schemas.TryGetValue(typeof(T), out ulong schema) ? schema : _schemas.GetOrAdd(typeof(T), ComputeSchema);

    private ulong ComputeSchema(Type type)
    {
        var contract = new StringBuilder();
        if (type == typeof(JsonPayload))
            contract.Append("json-payload");
        else
            DescribeContract(_options.GetTypeInfo(type), contract, new HashSet<Type>(), depth: 0);
        return XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(contract.ToString()));
    }

    private void DescribeContract(JsonTypeInfo info, StringBuilder contract, HashSet<Type> seen, int depth)
    {
        Type type = info.Type;
        contract.Append(type.FullName).Append('/').Append(info.Kind);
        // Each type once (recursive types end here), and a sane depth for very deep graphs.
        if (!seen.Add(type) || depth > 16)
        {
            contract.Append(';');
            return;
        }
        if (type.IsEnum || Nullable.GetUnderlyingType(type) is { IsEnum: true })
            contract.Append('[').AppendJoin(',', Enum.GetNames(Nullable.GetUnderlyingType(type) ?? type)).Append(']');
        contract.Append('{');
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object:
                foreach (JsonPropertyInfo property in info.Properties)
                {
                    contract.Append(property.Name).Append(property.IsRequired ? "!:" : ":");
                    DescribeContract(_options.GetTypeInfo(property.PropertyType), contract, seen, depth + 1);
                }
                break;
            case JsonTypeInfoKind.Enumerable or JsonTypeInfoKind.Dictionary:
                if (info.KeyType is { } keyType)
                    DescribeContract(_options.GetTypeInfo(keyType), contract, seen, depth + 1);
                if (info.ElementType is { } elementType)
                    DescribeContract(_options.GetTypeInfo(elementType), contract, seen, depth + 1);
                break;
        }
        contract.Append('}');
    }

    /// <summary>
    /// Serializes <paramref name="value"/> once into a complete value envelope (fresh stamp, zero generations, the given
    /// expiry in Unix milliseconds) and returns it with the offset of its JSON. Without Redis the caller passes
    /// <paramref name="tagCount"/> 0 and just uses the JSON.
    /// </summary>
    public byte[] CreateEnvelope<T>(T value, string key, int tagCount, out int jsonOffset, long expiresAt = 0)
    {
        // Taken out of the slot while in use, so a converter that re-enters the cache cannot share it.
        ArrayBufferWriter<byte> buffer = t_buffer ?? new ArrayBufferWriter<byte>(1024);
        t_buffer = null;
        try
        {
            jsonOffset = Envelope.HeaderLength(tagCount);
            Envelope.WriteValueHeader(buffer.GetSpan(jsonOffset), tagCount);
            buffer.Advance(jsonOffset);
            if (typeof(T) == typeof(JsonPayload))
            {
                // Already JSON: copied as it is. A null payload is no JSON at all, so that it stays distinct from a
                // payload that holds the JSON null.
                if (value is JsonPayload payload)
                    buffer.Write(payload.Utf8Json.Span);
            }
            else
            {
                using var writer = new Utf8JsonWriter(buffer, _writerOptions);
                JsonSerializer.Serialize(writer, value, TypeInfo<T>());
            }
            byte[] envelope = buffer.WrittenSpan.ToArray();
            Envelope.SetExpiry(envelope, jsonOffset, expiresAt);
            Envelope.Seal(envelope, jsonOffset, SchemaOf<T>(), key);
            return envelope;
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

    /// <summary>
    /// Reads the value of a verified envelope; throws <see cref="JsonException"/> (or <see cref="NotSupportedException"/>)
    /// for a bad shape. A <see cref="JsonPayload"/> keeps <paramref name="envelope"/>'s memory: the caller must not reuse it.
    /// </summary>
    public T Deserialize<T>(byte[] envelope, int jsonOffset)
    {
        if (typeof(T) == typeof(JsonPayload))
            return jsonOffset == envelope.Length ? default! : (T)(object)JsonPayload.FromTrustedUtf8(envelope.AsMemory(jsonOffset));
        return JsonSerializer.Deserialize(envelope.AsSpan(jsonOffset), TypeInfo<T>())!;
    }
}
