namespace CacheGen.Redis;

/// <summary>
/// Why bytes under one of our keys are not a readable value: the <c>problem</c> tag of
/// <c>cachegen.corrupt_entries</c>. Each such entry is a miss, logged (event <see cref="CacheGenLogEvents.CorruptEntry"/>) and replaced.
/// </summary>
internal static class CorruptKinds
{
    /// <summary>Not an envelope: random, empty or truncated bytes, an unknown version.</summary>
    public const string Format = "format";

    /// <summary>A payload larger than <see cref="CacheGenOptions.MaximumPayloadBytes"/>.</summary>
    public const string TooLarge = "too_large";

    /// <summary>A compressed payload that does not decompress (damaged bytes, or larger than <see cref="CacheGenOptions.MaximumPayloadBytes"/> once decompressed).</summary>
    public const string Compression = "compression";

    /// <summary>Written for another schema of the type (a changed type, or another type under the same key).</summary>
    public const string Schema = "schema";

    /// <summary>Written for another key.</summary>
    public const string Key = "key";

    /// <summary>The checksum does not match: truncated, extended or damaged bytes.</summary>
    public const string Checksum = "checksum";

    /// <summary>Verified bytes that still do not deserialize as the type.</summary>
    public const string Json = "json";

    /// <summary>A Redis value that is not a string (WRONGTYPE); the key is deleted.</summary>
    public const string WrongType = "wrong_type";

    /// <summary>A tag's generation key holds a string that is not a decimal integer; it is set to a fresh random generation (an eviction of the tag).</summary>
    public const string Generation = "generation";

    /// <summary>
    /// A generation lower than one this instance saw before: Redis lost writes (a restart from an older snapshot, a
    /// failover to a replica that lagged). It is raised past what was seen, which evicts the tag.
    /// </summary>
    public const string Rollback = "rollback";
}
