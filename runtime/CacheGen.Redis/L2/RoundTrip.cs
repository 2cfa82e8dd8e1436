using System.IO.Hashing;
using System.Numerics;
using System.Text.Json;

namespace CacheGen.Redis;

/// <summary>
/// Whether values of one type read back exactly as they were written, learnt from the first fills of the type: each
/// fill's JSON is read back into a value and written again, and the bytes must match (<see cref="PayloadSerializer.CheckRoundTrip"/>).
/// An exception or a difference makes the type uncacheable for the life of the cache: its values are returned to every
/// caller but never stored.
/// </summary>
/// <remarks>
/// A single probe can be fooled: a member that does not read back goes unnoticed while it holds its default (a
/// constructor that drops its argument reads 0 back as 0). So the probe repeats on later fills until every member the
/// JSON has shown (every property path, array elements folded together) has held something other than its default
/// (null, false, 0, "", [] or {}) in some probed value; only then is the type confirmed and fills stop paying for it.
/// A member that stays at its default through <see cref="MaximumProbes"/> probes is taken as it is: losing a value
/// nobody has seen is not yet a wrong answer, and the readers keep their own checks (a Redis entry or a copy that fails
/// to read sends the type back to probing). Hits never probe.
/// </remarks>
internal sealed class RoundTripState(string typeName, int status, string? structuralProblem)
{
    public const int Probing = 0;
    public const int Confirmed = 1;
    public const int Uncacheable = 2;

    /// <summary>Probes after which a type whose values always left some member at its default is confirmed anyway.</summary>
    public const int MaximumProbes = 32;

    /// <summary>
    /// Distinct member paths after which the type is confirmed: a dictionary's keys are paths too, and a value that
    /// big which read back exactly is evidence enough. Bounds what a type's probing keeps in memory.
    /// </summary>
    public const int MaximumPaths = 4096;

    private const ulong Root = 0x6A09E667F3BCC908;
    private const ulong ArrayElement = 0xBB67AE8584CAA73B;

    private readonly Lock _gate = new();
    private readonly HashSet<ulong> _seen = [];
    private readonly HashSet<ulong> _covered = [];
    private int _status = status;
    private int _probes;

    /// <summary>The type's name as logs and the <c>type</c> tag of <c>cachegen.uncacheable_values</c> show it.</summary>
    public string TypeName { get; } = typeName;

    /// <summary>Why the type cannot round-trip, found from its JSON contract before any value was seen (a public field left out).</summary>
    public string? StructuralProblem { get; } = structuralProblem;

    public int Status => Volatile.Read(ref _status);

    /// <summary>True for the one call that made the type uncacheable (it logs the warning).</summary>
    public bool MarkUncacheable() => Interlocked.Exchange(ref _status, Uncacheable) != Uncacheable;

    /// <summary>A reader could not read bytes of a confirmed type: probe the next fills again.</summary>
    public void Reprobe()
    {
        lock (_gate)
        {
            _probes = 0;
            Interlocked.CompareExchange(ref _status, Probing, Confirmed);
        }
    }

    /// <summary>Confirms a type whose serializer the app chose, once one of its values read back (there is no JSON to walk).</summary>
    public void Confirm() => Interlocked.CompareExchange(ref _status, Confirmed, Probing);

    /// <summary>Records a value whose JSON read back exactly; confirms the type once every member it has shown held content.</summary>
    public void Passed(ReadOnlySpan<byte> json)
    {
        lock (_gate)
        {
            if (Status != Probing)
                return;
            Walk(json, _seen, _covered);
            if (++_probes >= MaximumProbes || _seen.Count > MaximumPaths || _covered.IsSupersetOf(_seen))
            {
                Interlocked.CompareExchange(ref _status, Confirmed, Probing);
                // Not needed once confirmed: a reprobe starts afresh.
                _seen.Clear();
                _covered.Clear();
                _seen.TrimExcess();
                _covered.TrimExcess();
            }
        }
    }

    /// <summary>Adds every value path of <paramref name="json"/> to <paramref name="seen"/>, and those that hold content to <paramref name="covered"/>.</summary>
    private static void Walk(ReadOnlySpan<byte> json, HashSet<ulong> seen, HashSet<ulong> covered)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 4096 });
        var containers = new List<(ulong Path, bool IsArray, bool HasContent)>();
        ulong next = Root;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    containers[^1] = containers[^1] with { HasContent = true };
                    next = Mix(containers[^1].Path, XxHash3.HashToUInt64(reader.ValueSpan));
                    break;
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    ulong container = ValuePath(containers, next);
                    seen.Add(container);
                    containers.Add((container, reader.TokenType == JsonTokenType.StartArray, false));
                    break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    (ulong path, _, bool hasContent) = containers[^1];
                    containers.RemoveAt(containers.Count - 1);
                    if (hasContent)
                        covered.Add(path);
                    break;
                case JsonTokenType.Comment:
                    break;
                default:
                    ulong scalar = ValuePath(containers, next);
                    seen.Add(scalar);
                    if (!IsDefault(ref reader))
                        covered.Add(scalar);
                    break;
            }
        }
    }

    // Array elements share one path, so a list shows a member as covered once any element held content in it.
    private static ulong ValuePath(List<(ulong Path, bool IsArray, bool HasContent)> containers, ulong next)
    {
        if (containers.Count == 0 || !containers[^1].IsArray)
            return next;
        containers[^1] = containers[^1] with { HasContent = true };
        return Mix(containers[^1].Path, ArrayElement);
    }

    private static ulong Mix(ulong parent, ulong child) => (BitOperations.RotateLeft(parent, 27) ^ child) * 0x9E3779B97F4A7C15;

    private static bool IsDefault(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return reader.ValueSpan.IsEmpty;
            case JsonTokenType.Number:
                foreach (byte b in reader.ValueSpan)
                {
                    if (b is (byte)'e' or (byte)'E')
                        break;
                    if (b is >= (byte)'1' and <= (byte)'9')
                        return false;
                }
                return true;
            case JsonTokenType.True:
                return false;
            default:
                return true;
        }
    }
}
