namespace CacheGen.Generator.Model;

/// <summary>
/// How a <c>[Cached]</c> method decides each stored value's lifetime: <see cref="JitterPercent"/>, the most by which it
/// is shortened at random.
/// </summary>
internal sealed record Freshness(int JitterPercent)
{
    public static readonly Freshness None = new(0);
}
