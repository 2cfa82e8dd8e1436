using CsCheck;

namespace CacheGen.Redis.Tests.Exploration;

public enum StepKind
{
    Get,
    Cancel,
    Release,
    Remove,
    Set,
    RemoveTag,
    RemoveAll,
    /// <summary>A write-through ([UpdatesCache]): begin, the write commits, complete (concurrent runs only).</summary>
    Update,
}

/// <summary>
/// One step of a scenario. <see cref="StepKind.Get"/> starts a caller of key <see cref="Key"/> (able to give up if
/// <see cref="Cancellable"/>; its data call held until released if <see cref="Held"/>, observing its token if
/// <see cref="HonorsToken"/>, and failing once its caller gave up and its scope was disposed if it
/// <see cref="NeedsScope"/>, like a query on a disposed DbContext; reading the key as a <see cref="Versioned"/> record
/// instead of a string if <see cref="AsRecord"/>, which makes it replace a string fill rather than join it). Cancel and Release pick the <see cref="Index"/>-th (modulo) caller still able to give up,
/// or data call still held, so a shrunk scenario keeps its meaning.
/// </summary>
public sealed record Step(StepKind Kind, int Key = 0, int Index = 0, bool Cancellable = false, bool Held = false, bool HonorsToken = false,
    bool NeedsScope = false, bool AsRecord = false)
{
    public override string ToString() => Kind switch
    {
        StepKind.Get => $"Get(k{Key}{(Cancellable ? ", cancellable" : "")}{(Held ? ", held" : "")}{(HonorsToken ? ", honors token" : "")}" +
            $"{(NeedsScope ? ", needs its scope" : "")}{(AsRecord ? ", as a record" : "")})",
        StepKind.Cancel => $"Cancel(#{Index})",
        StepKind.Release => $"Release(#{Index})",
        StepKind.Remove => $"Remove(k{Key})",
        StepKind.Set => $"Set(k{Key})",
        StepKind.RemoveTag => $"RemoveTag({Scenario.TagNames[Index]})",
        _ => "RemoveAll(*)",
    };
}

/// <summary>The same value as a record: another type under the same key.</summary>
public sealed record Versioned(string Id);

public static class Scenario
{
    /// <summary>Two keys; k0 carries t0 and any, k1 carries t1 and any.</summary>
    public const int Keys = 2;

    public static readonly string[] TagNames = ["t0", "t1", "any"];

    public static string[] TagsOf(int key) => [TagNames[key], "any"];

    private static readonly Gen<int> Key = Gen.Int[0, Keys - 1];
    private static readonly Gen<int> Index = Gen.Int[0, 7];

    private static Gen<Step> Steps() => Gen.Frequency<Step>(
        (8, Gen.Select(Key, Gen.Int[0, 31], (key, flags) => new Step(StepKind.Get, key, 0, Cancellable: (flags & 1) != 0, Held: (flags & 2) != 0,
            HonorsToken: (flags & 4) != 0, NeedsScope: (flags & 8) != 0, AsRecord: (flags & 16) != 0))),
        (3, Index.Select(i => new Step(StepKind.Cancel, Index: i))),
        (4, Index.Select(i => new Step(StepKind.Release, Index: i))),
        (2, Key.Select(k => new Step(StepKind.Remove, k))),
        (2, Key.Select(k => new Step(StepKind.Set, k))),
        (1, Gen.Int[0, 2].Select(i => new Step(StepKind.RemoveTag, Index: i))),
        (1, Gen.Const(new Step(StepKind.RemoveAll))));

    /// <summary>Up to 24 steps, RemoveByTagAsync("*") among them (it clears Redis too, through the clear epoch).</summary>
    public static Gen<Step[]> Scenarios() => Steps().Array[1, 24];

    public static string Print(Step[] steps) => "[" + string.Join(", ", steps.Select(s => s.ToString())) + "]";
}
