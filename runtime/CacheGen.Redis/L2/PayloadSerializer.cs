using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace CacheGen.Redis;

/// <summary>
/// Turns values into envelopes and payloads back into values: with the app's serializer for the type when it
/// registered one (<see cref="ServiceSerializers"/>), else with System.Text.Json. Type information comes only from
/// the caller's <c>T</c> (through the configured resolver), never from the cached bytes. A <see cref="JsonPayload"/> is
/// stored as its own bytes and handed back over the bytes read, with no JSON parsed or written either way; a null
/// payload is stored as no bytes at all.
/// </summary>
internal sealed class PayloadSerializer
{
    private readonly ServiceSerializers _serviceSerializers;
    private readonly JsonSerializerOptions _options;
    private readonly JsonWriterOptions _writerOptions;
    private readonly ConcurrentDictionary<Type, ulong> _schemas = new();
    private readonly ConcurrentDictionary<Type, RoundTripState> _roundTrips = new();

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    public PayloadSerializer(JsonSerializerOptions? options, ServiceSerializers? serviceSerializers = null)
    {
        _serviceSerializers = serviceSerializers ?? new ServiceSerializers(null);
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
    public ulong SchemaOf<T>() =>
        _schemas.TryGetValue(typeof(T), out ulong schema) ? schema : _schemas.GetOrAdd(typeof(T), ComputeSchema(typeof(T), _serviceSerializers.For<T>()));

    /// <summary>The <see cref="PayloadFormat"/> serializer bits of <typeparamref name="T"/>'s payloads.</summary>
    public byte FormatOf<T>() => _serviceSerializers.For<T>() is null ? PayloadFormat.Json : PayloadFormat.ServiceSerializer;

    private ulong ComputeSchema(Type type, object? serviceSerializer)
    {
        var contract = new StringBuilder();
        if (type == typeof(JsonPayload))
            contract.Append("json-payload");
        else if (serviceSerializer is not null)
            DescribeServiceContract(type, serviceSerializer, contract);
        else
            DescribeContract(_options.GetTypeInfo(type), contract, new HashSet<Type>(), depth: 0);
        return XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(contract.ToString()));
    }

    /// <summary>
    /// A serializer from DI: which one (another serializer's bytes are a miss), and the type's members as System.Text.Json
    /// sees them when it can (a type only the app's serializer knows, under Native AOT, is named alone).
    /// </summary>
    private void DescribeServiceContract(Type type, object serviceSerializer, StringBuilder contract)
    {
        contract.Append("service:").Append(serviceSerializer.GetType().FullName).Append(':');
        try
        {
            DescribeContract(_options.GetTypeInfo(type), contract, new HashSet<Type>(), depth: 0);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            contract.Append(type.FullName);
        }
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

    /// <summary>Whether <typeparamref name="T"/>'s values read back exactly (see <see cref="RoundTripState"/>). Looked up on fills and Redis reads, never on in-process hits.</summary>
    public RoundTripState RoundTripOf<T>() =>
        _roundTrips.TryGetValue(typeof(T), out RoundTripState? state) ? state : _roundTrips.GetOrAdd(typeof(T), NewRoundTrip(typeof(T), _serviceSerializers.For<T>() is not null));

    private RoundTripState NewRoundTrip(Type type, bool serviceSerialized)
    {
        // A payload is stored and read back as its own bytes: exact by construction.
        if (type == typeof(JsonPayload))
            return new RoundTripState(nameof(JsonPayload), RoundTripState.Confirmed, null);
        // The app chose this type's serializer: its fidelity is the app's to judge, and its bytes are not JSON to inspect.
        if (serviceSerialized)
            return new RoundTripState(DisplayName(type), RoundTripState.Probing, null);
        string? problem = null;
        try
        {
            problem = FindOmittedField(_options.GetTypeInfo(type), new HashSet<Type>(), depth: 0);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            // No contract to inspect; the first fill finds out what goes wrong.
        }
        return new RoundTripState(DisplayName(type), RoundTripState.Probing, problem);
    }

    /// <summary>
    /// A public field that the JSON contract leaves out (options without <c>IncludeFields</c>: a value tuple writes <c>{}</c>)
    /// loses its value without any difference in the bytes, so the probe cannot see it: it is looked for in the contract.
    /// </summary>
    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "Only fields the trimmer kept can hold data; it keeps every field the app uses.")]
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Only fields the trimmer kept can hold data; it keeps every field the app uses.")]
    private string? FindOmittedField(JsonTypeInfo info, HashSet<Type> seen, int depth)
    {
        if (!seen.Add(info.Type) || depth > 16)
            return null;
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object:
                var members = new HashSet<string>(StringComparer.Ordinal);
                foreach (JsonPropertyInfo property in info.Properties)
                {
                    if (property.AttributeProvider is not MemberInfo member)
                        return null; // a property added by a contract modifier: no telling which member it stands for
                    members.Add(member.Name);
                }
                foreach (FieldInfo field in info.Type.GetFields(BindingFlags.Public | BindingFlags.Instance))
                {
                    if (!members.Contains(field.Name) && !field.IsDefined(typeof(JsonIgnoreAttribute), inherit: true))
                        return $"its public field {field.Name} is not part of its JSON (include fields in SerializerOptions, or mark the field [JsonInclude] or [JsonIgnore])";
                }
                foreach (JsonPropertyInfo property in info.Properties)
                {
                    if (FindOmittedField(_options.GetTypeInfo(property.PropertyType), seen, depth + 1) is { } nested)
                        return nested;
                }
                return null;
            case JsonTypeInfoKind.Enumerable or JsonTypeInfoKind.Dictionary:
                return (info.KeyType is { } keyType ? FindOmittedField(_options.GetTypeInfo(keyType), seen, depth + 1) : null)
                    ?? (info.ElementType is { } elementType ? FindOmittedField(_options.GetTypeInfo(elementType), seen, depth + 1) : null);
            default:
                return null;
        }
    }

    /// <summary>A readable type name: <c>System.ValueTuple&lt;System.Int32, System.String&gt;</c> rather than the CLR's assembly-qualified form.</summary>
    internal static string DisplayName(Type type)
    {
        if (type.IsArray)
            return DisplayName(type.GetElementType()!) + "[" + new string(',', type.GetArrayRank() - 1) + "]";
        if (!type.IsGenericType)
            return type.FullName ?? type.Name;
        string name = type.GetGenericTypeDefinition().FullName ?? type.Name;
        int arity = name.IndexOf('`', StringComparison.Ordinal);
        return (arity < 0 ? name : name[..arity]) + "<" + string.Join(", ", type.GetGenericArguments().Select(DisplayName)) + ">";
    }

    /// <summary>
    /// Reads <paramref name="value"/>'s freshly written JSON back and writes the copy again: null when the bytes match
    /// (and a reference type comes back as the same runtime type), else why not, with the exception when one was thrown.
    /// Runs on fills only, until the type is confirmed.
    /// </summary>
    public string? CheckRoundTrip<T>(T value, byte[] envelope, int jsonOffset, out Exception? exception)
    {
        exception = null;
        if (_serviceSerializers.For<T>() is not null)
            return CheckServiceRoundTrip<T>(envelope, jsonOffset, out exception);
        T copy;
        try
        {
            copy = Deserialize<T>(envelope, jsonOffset);
        }
        catch (Exception e)
        {
            exception = e;
            return "its JSON cannot be read back (" + e.GetType().Name + ")";
        }
        if (!typeof(T).IsValueType && value is not null && copy is not null && value.GetType() != copy.GetType()
            && (typeof(T) == typeof(object) || TypeInfo<T>().Kind == JsonTypeInfoKind.Object))
            return $"a {DisplayName(value.GetType())} reads back as a {DisplayName(copy.GetType())} (declare the derived types with [JsonDerivedType])";
        ArrayBufferWriter<byte> buffer = t_buffer ?? new ArrayBufferWriter<byte>(1024);
        t_buffer = null;
        try
        {
            using (var writer = new Utf8JsonWriter(buffer, _writerOptions))
                JsonSerializer.Serialize(writer, copy, TypeInfo<T>());
            if (!buffer.WrittenSpan.SequenceEqual(envelope.AsSpan(jsonOffset)))
                return "its JSON reads back as a different value (a member is written but not read back, or read back changed)";
            return null;
        }
        catch (Exception e)
        {
            exception = e;
            return "the value read back cannot be written again (" + e.GetType().Name + ")";
        }
        finally
        {
            if (buffer.Capacity <= 1 << 20)
            {
                buffer.ResetWrittenCount();
                t_buffer = buffer;
            }
        }
    }

    /// <summary>
    /// The probe for a serializer from DI: its bytes must read back at all (the app chose the serializer, so what the
    /// copy holds is its contract, not CacheGen's; nor need it write the same bytes twice).
    /// </summary>
    private string? CheckServiceRoundTrip<T>(byte[] envelope, int jsonOffset, out Exception? exception)
    {
        exception = null;
        try
        {
            Deserialize<T>(envelope, jsonOffset);
            return null;
        }
        catch (Exception e)
        {
            exception = e;
            return "its serializer cannot read back what it wrote (" + e.GetType().Name + ")";
        }
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
            else if (_serviceSerializers.For<T>() is { } serviceSerializer)
            {
                serviceSerializer.Serialize(value, buffer);
            }
            else
            {
                using var writer = new Utf8JsonWriter(buffer, _writerOptions);
                JsonSerializer.Serialize(writer, value, TypeInfo<T>());
            }
            byte[] envelope = buffer.WrittenSpan.ToArray();
            Envelope.SetFormat(envelope, jsonOffset, FormatOf<T>());
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
    /// for a bad shape, or whatever the app's serializer throws. A <see cref="JsonPayload"/> keeps
    /// <paramref name="envelope"/>'s memory: the caller must not reuse it.
    /// </summary>
    public T Deserialize<T>(byte[] envelope, int jsonOffset)
    {
        if (typeof(T) == typeof(JsonPayload))
            return jsonOffset == envelope.Length ? default! : (T)(object)CacheGen.Infrastructure.TrustedJsonPayload.FromVerifiedUtf8(envelope.AsMemory(jsonOffset));
        if (_serviceSerializers.For<T>() is { } serviceSerializer)
            return serviceSerializer.Deserialize(new ReadOnlySequence<byte>(envelope, jsonOffset, envelope.Length - jsonOffset));
        return JsonSerializer.Deserialize(envelope.AsSpan(jsonOffset), TypeInfo<T>())!;
    }
}
