using System.Linq;

namespace CacheGen.Generator.Model;

/// <summary>
/// What the parser makes of one attributed method: the model to emit (if any), the diagnostics to report, and the
/// regions it uses (for the cross-method "unused region" check).
/// </summary>
internal sealed record ParseResult(
    MethodModel? Model,
    EquatableArray<DiagnosticInfo> Diagnostics,
    EquatableArray<RegionUse> Regions)
{
    /// <summary>The error-severity diagnostics: the generator reports these, the analyzer the rest.</summary>
    public EquatableArray<DiagnosticInfo> Errors() => Diagnostics.Where(static d => d.IsError()).ToEquatableArray();
}

/// <summary>A region named by an attribute, with where it is written (for the unused-region warning).</summary>
internal sealed record RegionUse(string Region, bool IsCached, LocationInfo? Location);
