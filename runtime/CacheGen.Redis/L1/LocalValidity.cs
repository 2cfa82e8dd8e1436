namespace CacheGen.Redis;

/// <summary>
/// What an in-process entry (or a fill in flight) was computed under: the cache epoch and the local generation of each
/// tag, captured before the value was read or computed. Any later eviction makes it not current.
/// </summary>
/// <remarks>
/// It also remembers the cache's invalidation count when it was last found current. The count moves on with every
/// in-process eviction (after the generation it moves), so while it has not moved nothing needs checking: a hit costs
/// one comparison however many tags the entry has, and tags are walked only once after each eviction.
/// </remarks>
internal sealed class LocalValidity(long epoch, TagGeneration[] tags, long[] generations, long invalidations)
{
    public static readonly TagGeneration[] NoTags = [];

    private long _currentAt = invalidations;

    public long Epoch { get; } = epoch;

    /// <param name="currentEpoch">The cache's epoch, read after <paramref name="invalidations"/>.</param>
    /// <param name="invalidations">The cache's invalidation count, read first.</param>
    public bool IsCurrent(long currentEpoch, long invalidations)
    {
        if (Volatile.Read(ref _currentAt) == invalidations)
            return true;
        if (Epoch != currentEpoch)
            return false;
        for (int i = 0; i < tags.Length; i++)
        {
            // Negative: captured from (or since) a retired tag.
            if (tags[i].Value != generations[i] || generations[i] < 0)
                return false;
        }
        // Current as of that count: an eviction since has moved it on (racing writers only make the next check slower).
        Volatile.Write(ref _currentAt, invalidations);
        return true;
    }

    /// <summary>
    /// This validity and <paramref name="more"/> (captured later, of tags known only then) as one: current while both are.
    /// Its count is the earlier of the two, so its first check walks every tag.
    /// </summary>
    public LocalValidity With(LocalValidity more) =>
        more.CapturedTags.Length == 0 && more.Epoch == Epoch
            ? this
            : new LocalValidity(Epoch, [.. tags, .. more.CapturedTags], [.. generations, .. more.CapturedGenerations],
                Math.Min(Volatile.Read(ref _currentAt), Volatile.Read(ref more._currentAt)));

    /// <summary>This validity without its last <paramref name="count"/> tags.</summary>
    public LocalValidity WithoutLast(int count) =>
        count == 0 ? this : new LocalValidity(Epoch, tags[..^count], generations[..^count], Volatile.Read(ref _currentAt));

    private TagGeneration[] CapturedTags => tags;

    private long[] CapturedGenerations => generations;
}
