namespace CacheGen.AspNetCore.Encoding;

/// <summary>One way to send a payload: its bytes, their content coding (<c>null</c>: as they are) and entity tag.</summary>
internal sealed class Representation(string? coding, ReadOnlyMemory<byte> bytes, string entityTag)
{
    public string? Coding { get; } = coding;

    public ReadOnlyMemory<byte> Bytes { get; } = bytes;

    public string EntityTag { get; } = entityTag;
}
