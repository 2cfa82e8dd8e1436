using System.ComponentModel;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace CacheGen;

/// <summary>
/// A value already serialized to UTF-8 JSON: cache it to serialize once per value instead of once per request. An
/// endpoint writes <see cref="Utf8Json"/> straight to the response; a CacheGen.Redis hit hands out the bytes it read,
/// with no JSON parsed or written on the way.
/// </summary>
/// <remarks>
/// Immutable (and marked so), so in-process caches share one instance between callers. Serialized with
/// System.Text.Json by any other cache it is the JSON itself, not a wrapper around it.
/// </remarks>
/// <example>
/// <code>
/// [Cached("posts")]
/// public partial Task&lt;JsonPayload&gt; GetAllJsonAsync(CancellationToken ct = default);
/// private async Task&lt;JsonPayload&gt; GetAllJsonCoreAsync(CancellationToken ct) =&gt;
///     JsonPayload.Serialize(await store.ListAsync(ct), AppJsonContext.Default.IReadOnlyListPost);
///
/// app.MapGet("/posts/", async (PostService posts, CancellationToken ct) =&gt;
///     TypedResults.Bytes((await posts.GetAllJsonAsync(ct)).Utf8Json, "application/json"));
/// </code>
/// </example>
[ImmutableObject(true)]
[JsonConverter(typeof(JsonPayloadConverter))]
public sealed class JsonPayload
{
    private readonly ReadOnlyMemory<byte> _utf8Json;
    private string? _hash; // computed on first use; every thread computes the same text, so no lock

    private JsonPayload(ReadOnlyMemory<byte> utf8Json) => _utf8Json = utf8Json;

    /// <summary>The UTF-8 JSON text. Never modify the memory behind it: every caller of a cached payload shares it.</summary>
    public ReadOnlyMemory<byte> Utf8Json => _utf8Json;

    /// <summary>The length of <see cref="Utf8Json"/> in bytes.</summary>
    public int Length => _utf8Json.Length;

    /// <summary>
    /// A strong hash of <see cref="Utf8Json"/>: the SHA-256 of the bytes, base64url-encoded (43 characters). Equal for
    /// equal bytes on every machine and process, so it can serve as an HTTP entity tag; computed once per instance.
    /// </summary>
    public string Hash => _hash ??= ComputeHash(_utf8Json.Span);

    /// <summary>Serializes <paramref name="value"/> once, with the given (source-generated or reflection) type information.</summary>
    public static JsonPayload Serialize<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return new JsonPayload(JsonSerializer.SerializeToUtf8Bytes(value, typeInfo));
    }

    /// <summary>
    /// Wraps JSON text that was serialized elsewhere, after checking that it is one complete, well-formed JSON value.
    /// The memory is kept, not copied.
    /// </summary>
    /// <exception cref="ArgumentException">The bytes are not one well-formed JSON value.</exception>
    public static JsonPayload FromUtf8(ReadOnlyMemory<byte> utf8Json)
    {
        if (!IsWellFormed(utf8Json.Span, out string? problem))
            throw new ArgumentException("Not a well-formed JSON value: " + problem, nameof(utf8Json));
        return new JsonPayload(utf8Json);
    }

    /// <summary>
    /// Wraps bytes whose integrity the caller has already established (a checksum over bytes this library serialized,
    /// or a parsed JSON document), without the cost of reading them again.
    /// </summary>
    internal static JsonPayload FromTrustedUtf8(ReadOnlyMemory<byte> utf8Json) => new(utf8Json);

    /// <summary>Reads the JSON back into a value.</summary>
    public T? Deserialize<T>(JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return JsonSerializer.Deserialize(_utf8Json.Span, typeInfo);
    }

    /// <summary>The JSON text.</summary>
    public override string ToString() => Encoding.UTF8.GetString(_utf8Json.Span);

    private static string ComputeHash(ReadOnlySpan<byte> utf8Json)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8Json, hash);
        return Base64Url.EncodeToString(hash);
    }

    private static bool IsWellFormed(ReadOnlySpan<byte> json, out string? problem)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read())
            {
                problem = "no JSON value";
                return false;
            }
            reader.Skip();
            // Skip leaves the reader on the value's last token; anything after it is a second value or garbage.
            if (reader.Read())
            {
                problem = "more than one JSON value";
                return false;
            }
            problem = null;
            return true;
        }
        catch (JsonException e)
        {
            problem = e.Message;
            return false;
        }
    }
}
