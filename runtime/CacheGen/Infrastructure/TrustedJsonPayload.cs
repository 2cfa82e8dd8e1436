using System.ComponentModel;

namespace CacheGen.Infrastructure;

/// <summary>
/// For cache implementations, not applications: makes a <see cref="JsonPayload"/> from bytes whose integrity the
/// caller has already established, without reading them again. CacheGen.Redis uses it for bytes it serialized itself
/// and has just verified against the checksum stored beside them. Anything else belongs in
/// <see cref="JsonPayload.FromUtf8"/>, which validates.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TrustedJsonPayload
{
    /// <summary>Wraps <paramref name="utf8Json"/>, which must be one well-formed JSON value; it is not checked.</summary>
    public static JsonPayload FromVerifiedUtf8(ReadOnlyMemory<byte> utf8Json) => JsonPayload.FromTrustedUtf8(utf8Json);
}
