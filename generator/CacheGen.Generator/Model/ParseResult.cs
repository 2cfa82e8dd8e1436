using System.Linq;

namespace CacheGen.Generator.Model;

/// <summary>
/// What the parser makes of one attributed method: the model to emit (if any), the diagnostics to report, and what the
/// cross-method checks need: the regions it uses, the templates a cached method declares, the key templates a writing
/// method evicts.
/// </summary>
internal sealed record ParseResult(
    MethodModel? Model,
    EquatableArray<DiagnosticInfo> Diagnostics,
    EquatableArray<RegionUse> Regions,
    EquatableArray<TemplateDeclaration> Templates,
    EquatableArray<KeyTemplateUse> KeyUses)
{
    /// <summary>Nothing: the method belongs to another attribute's step of the pipeline.</summary>
    public static readonly ParseResult None = new(null, EquatableArray<DiagnosticInfo>.Empty, EquatableArray<RegionUse>.Empty,
        EquatableArray<TemplateDeclaration>.Empty, EquatableArray<KeyTemplateUse>.Empty);
}

/// <summary>A region named by an attribute, with where it is written (for the unused-region warning).</summary>
internal sealed record RegionUse(string Region, bool IsCached, LocationInfo? Location);

/// <summary>A key template an <c>[InvalidatesCache]</c> evicts, for the check that some cached method uses it.</summary>
internal sealed record KeyTemplateUse(string Region, string Signature, string Template, string MethodName, LocationInfo? Location);
