using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace CacheGen.Consistency.Tests;

public enum OpKind
{
    Read,
    Write,
}

/// <summary>
/// One request of the checker: which instance served it, which post, the version it saw (a read) or wrote (a write),
/// and when the client sent it and got the answer (<see cref="Stopwatch"/> ticks, one clock for everything).
/// </summary>
public readonly record struct Op(OpKind Kind, int Instance, int PostId, int Version, long Start, long End);

/// <summary>A read that returned a version older than a write that had returned before the read was sent.</summary>
public sealed record Violation(Op Read, Op Write, Op? WriteSeen, string Rule, long Origin)
{
    private static string Ms(long ticks) => (ticks * 1000.0 / Stopwatch.Frequency).ToString("0.000", CultureInfo.InvariantCulture) + " ms";

    /// <summary>The minimal history that shows it: the write, the stale read, and the write the read's version came from.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{Rule} violated on post {Read.PostId}:");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"  write  on instance {Write.Instance}: version {Write.Version}, sent at {Ms(Write.Start - Origin)}, returned at {Ms(Write.End - Origin)}");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"  read   on instance {Read.Instance}: saw version {Read.Version}, sent at {Ms(Read.Start - Origin)} ({Ms(Read.Start - Write.End)} after the write returned), returned at {Ms(Read.End - Origin)}");
        if (WriteSeen is { } seen)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  (version {seen.Version} was written on instance {seen.Instance}, returned at {Ms(seen.End - Origin)})");
        else
            text.AppendLine(CultureInfo.InvariantCulture, $"  (version {Read.Version} is the post's initial version)");
        return text.ToString();
    }
}

/// <summary>What a run found.</summary>
public sealed class Analysis
{
    public required int Reads { get; init; }

    public required int Writes { get; init; }

    /// <summary>Reads on the writer's instance sent after the write returned that saw an older version (must be none).</summary>
    public required IReadOnlyList<Violation> SameInstance { get; init; }

    /// <summary>Reads on any instance sent more than the bound after a newer write returned (must be none).</summary>
    public required IReadOnlyList<Violation> PastBound { get; init; }

    /// <summary>
    /// For every read that saw an older version than a write that had already returned (on another instance): how
    /// long after that write returned the read was sent, in ms. This is the propagation the run observed.
    /// </summary>
    public required double[] StalenessMs { get; init; }

    public double Percentile(double p)
    {
        if (StalenessMs.Length == 0)
            return 0;
        double[] sorted = [.. StalenessMs.Order()];
        int index = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
    }

    public double Max => StalenessMs.Length == 0 ? 0 : StalenessMs.Max();

    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"{Reads} reads, {Writes} writes; {StalenessMs.Length} cross-instance stale reads: propagation p50 {Percentile(50):0.0} ms, p99 {Percentile(99):0.0} ms, max {Max:0.0} ms; {SameInstance.Count} same-instance violations, {PastBound.Count} past the bound");
}

/// <summary>The checker's rules over a recorded history.</summary>
public static class Checker
{
    /// <summary>
    /// Checks every read against the writes of its post: (a) a write that returned on the read's instance before the
    /// read was sent must be visible to it; (b) a write that returned on any instance more than <paramref name="bound"/>
    /// before the read was sent must be visible to it. Also measures how stale the stale reads were.
    /// </summary>
    public static Analysis Analyze(IReadOnlyCollection<Op> history, TimeSpan bound, long origin)
    {
        long boundTicks = (long)(bound.TotalSeconds * Stopwatch.Frequency);
        var sameInstance = new List<Violation>();
        var pastBound = new List<Violation>();
        var staleness = new List<double>();
        var writesByPost = history.Where(o => o.Kind == OpKind.Write).GroupBy(o => o.PostId)
            .ToDictionary(g => g.Key, g => g.OrderBy(w => w.End).ToArray());
        int reads = 0;
        foreach (Op read in history.Where(o => o.Kind == OpKind.Read))
        {
            reads++;
            if (!writesByPost.TryGetValue(read.PostId, out Op[]? writes))
                continue;
            Op? seen = writes.Where(w => w.Version == read.Version).Select(w => (Op?)w).FirstOrDefault();
            // The earliest-returning write that the read should have seen (its version is newer than the one read).
            Op? firstNewer = null;
            Op? firstNewerHere = null;
            foreach (Op write in writes)
            {
                if (write.End >= read.Start)
                    break;
                if (write.Version <= read.Version)
                    continue;
                firstNewer ??= write;
                if (write.Instance == read.Instance)
                {
                    firstNewerHere = write;
                    break;
                }
            }
            if (firstNewerHere is { } here)
                sameInstance.Add(new Violation(read, here, seen, "Read-your-instance's-writes", origin));
            if (firstNewer is { } newer)
            {
                long late = read.Start - newer.End;
                if (newer.Instance != read.Instance)
                    staleness.Add(late * 1000.0 / Stopwatch.Frequency);
                if (late > boundTicks)
                    pastBound.Add(new Violation(read, newer, seen, $"Visible-everywhere-within-{bound.TotalMilliseconds:0} ms", origin));
            }
        }
        return new Analysis
        {
            Reads = reads,
            Writes = history.Count(o => o.Kind == OpKind.Write),
            SameInstance = sameInstance,
            PastBound = pastBound,
            StalenessMs = [.. staleness],
        };
    }
}
