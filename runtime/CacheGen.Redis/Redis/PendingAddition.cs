namespace CacheGen.Redis;

/// <summary>What <see cref="PendingEvictions.Add"/> did.</summary>
internal enum PendingAddition
{
    /// <summary>Remembered, and nothing else was pending before.</summary>
    First,

    /// <summary>Remembered (or already pending and renewed).</summary>
    Added,

    /// <summary>Not remembered: the set is full.</summary>
    Overflowed,
}
