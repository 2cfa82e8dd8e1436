using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Model;

namespace CacheGen.Generator.Linking;

/// <summary>
/// Links a writing method's evicted tags to the compilation's cached methods, the one step that needs them all: a tag is
/// evicted in each region whose cached methods declare a tag of the same signature (CG0024, an error, when none does).
/// </summary>
internal static class EvictionLinker
{
    public static LinkedWriter Link(ParseResult writer, ImmutableArray<TemplateDeclaration> declared)
    {
        if (writer.Model is not { Invalidation: { } invalidation } model)
            return new LinkedWriter(writer.Model, EquatableArray<DiagnosticInfo>.Empty);

        var diagnostics = new List<DiagnosticInfo>();
        var tags = new List<TagEviction>();
        foreach (TagEviction tag in invalidation.Tags)
        {
            EquatableArray<string> regions = declared
                .Where(d => d.IsTag && d.Signature == tag.Tag.Signature)
                .Select(d => d.Region)
                .Distinct()
                .OrderBy(r => r, System.StringComparer.Ordinal)
                .ToEquatableArray();
            if (regions.Count == 0)
                diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.UnknownTag.Id, tag.Location, new[] { tag.Template, model.Name }.ToEquatableArray()));
            // Where a cached method takes the tag from its result, the template's fence goes too (see CachedMethod.ValueTagFences).
            EquatableArray<string> fenceRegions = declared
                .Where(d => d.IsTag && d.FromResult && d.Signature == tag.Tag.Signature)
                .Select(d => d.Region)
                .Distinct()
                .OrderBy(r => r, System.StringComparer.Ordinal)
                .ToEquatableArray();
            // The location is for the diagnostic only: without it, an edit elsewhere in the file leaves the model equal.
            tags.Add(tag with { Location = null, Regions = regions, FenceRegions = fenceRegions });
        }
        MethodModel linked = model with { Invalidation = invalidation with { Tags = tags.ToEquatableArray() } };
        return new LinkedWriter(linked, diagnostics.ToEquatableArray());
    }
}

/// <summary>A writing method with its evicted tags' regions filled in, and what linking found wrong.</summary>
internal sealed record LinkedWriter(MethodModel? Model, EquatableArray<DiagnosticInfo> Diagnostics);
