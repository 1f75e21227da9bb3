using System.Buffers;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Caching.Hybrid;

namespace RecApp.Tests.Caching;

/// <summary>Shaped like the API's cached lists: a sealed record marked immutable.</summary>
[ImmutableObject(true)]
public sealed record FrozenList(long[] ItemIds, string Label);

/// <summary>A mutable class: every read gets its own copy.</summary>
public sealed class MutableBox
{
    public int Count { get; set; }
}

public sealed record SourceGenerated(long ItemId, string DisplayName);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(SourceGenerated))]
public sealed partial class TestJsonContext : JsonSerializerContext;

/// <summary>A serializer registered in DI: writes "custom:" + the text, so the test can see it was used.</summary>
public sealed record CustomText(string Text);

public sealed class CustomTextSerializer : IHybridCacheSerializer<CustomText>
{
    public CustomText Deserialize(ReadOnlySequence<byte> source) => new(Encoding.UTF8.GetString(source)["custom:".Length..]);

    public void Serialize(CustomText value, IBufferWriter<byte> target) => Encoding.UTF8.GetBytes("custom:" + value.Text, target);
}

public sealed record FactoryMade(int Number);

/// <summary>A serializer factory registered in DI, for <see cref="FactoryMade"/> only.</summary>
public sealed class FactoryMadeSerializerFactory : IHybridCacheSerializerFactory
{
    public bool TryCreateSerializer<T>([NotNullWhen(true)] out IHybridCacheSerializer<T>? serializer)
    {
        serializer = typeof(T) == typeof(FactoryMade) ? (IHybridCacheSerializer<T>)(object)new Serializer() : null;
        return serializer is not null;
    }

    private sealed class Serializer : IHybridCacheSerializer<FactoryMade>
    {
        public FactoryMade Deserialize(ReadOnlySequence<byte> source) =>
            new(int.Parse(Encoding.UTF8.GetString(source)["number=".Length..], System.Globalization.CultureInfo.InvariantCulture));

        public void Serialize(FactoryMade value, IBufferWriter<byte> target) =>
            Encoding.UTF8.GetBytes(FormattableString.Invariant($"number={value.Number}"), target);
    }
}

internal static class Json
{
    public static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    public static JsonSerializerOptions SourceGeneratedOnly => new(TestJsonContext.Default.Options);
}
