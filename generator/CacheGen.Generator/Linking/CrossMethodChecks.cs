using System.Collections.Generic;
using System.Linq;
using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Model;

namespace CacheGen.Generator.Linking;

/// <summary>What the checks that compare one method with all the others of the compilation read.</summary>
internal sealed record CrossMethodUses(
    EquatableArray<RegionUse> Regions,
    EquatableArray<TemplateDeclaration> Templates,
    EquatableArray<KeyTemplateUse> KeyUses);

/// <summary>
/// The warnings that compare one method with all the others: an evicted region that no <c>[Cached]</c> method of the
/// compilation uses is most likely a typo (CG0013); so is an evicted key template that no cached method of its region
/// uses (CG0025; not also said for a region CG0013 names).
/// </summary>
internal static class CrossMethodChecks
{
    public static EquatableArray<DiagnosticInfo> Check(CrossMethodUses uses)
    {
        var cachedRegions = new HashSet<string>(uses.Regions.Where(static r => r.IsCached).Select(static r => r.Region));
        var keyTemplates = new HashSet<(string Region, string Signature)>(uses.Templates.Where(static t => !t.IsTag).Select(static t => (t.Region, t.Signature)));
        var diagnostics = new List<DiagnosticInfo>();
        foreach (RegionUse use in uses.Regions.Where(r => !r.IsCached && !cachedRegions.Contains(r.Region)).OrderBy(static r => r.Location?.FilePath, System.StringComparer.Ordinal)
                     .ThenBy(static r => r.Location?.Span.Start ?? 0))
            diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.UnusedRegion.Id, use.Location, new[] { use.Region }.ToEquatableArray()));
        foreach (KeyTemplateUse use in uses.KeyUses.Where(u => cachedRegions.Contains(u.Region) && !keyTemplates.Contains((u.Region, u.Signature)))
                     .OrderBy(static u => u.Location?.FilePath, System.StringComparer.Ordinal).ThenBy(static u => u.Location?.Span.Start ?? 0))
            diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.UnknownKeyTemplate.Id, use.Location,
                new[] { use.Template, use.MethodName, use.Region }.ToEquatableArray()));
        return diagnostics.ToEquatableArray();
    }
}
