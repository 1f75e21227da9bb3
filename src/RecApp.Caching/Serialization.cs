using System.Buffers;
using System.Collections.Concurrent;
using System.ComponentModel;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace RecApp.Caching;

/// <summary>
/// Finds the serializer for a type, in HybridCache's order: an <see cref="IHybridCacheSerializer{T}"/> registered in
/// DI, then the registered <see cref="IHybridCacheSerializerFactory"/> instances (last registered first), then the
/// built-ins (string as UTF-8, byte[] as is, everything else System.Text.Json with the configured options).
/// </summary>
internal sealed class SerializerRegistry
{
    private readonly ConcurrentDictionary<Type, object> _serializers = new();
    private readonly IServiceProvider _services;
    private readonly IHybridCacheSerializerFactory[] _factories;
    private readonly JsonSerializerOptions _json;

    public SerializerRegistry(IServiceProvider services, JsonSerializerOptions json)
    {
        _services = services;
        _factories = services.GetServices<IHybridCacheSerializerFactory>().Reverse().ToArray();
        _json = json;
        if (_json.TypeInfoResolver is null)
        {
            _json.TypeInfoResolver = new DefaultJsonTypeInfoResolver();
        }
        _json.MakeReadOnly();
    }

    public IHybridCacheSerializer<T> Get<T>() =>
        (IHybridCacheSerializer<T>)_serializers.GetOrAdd(typeof(T), static (_, registry) => registry.Create<T>(), this);

    private IHybridCacheSerializer<T> Create<T>()
    {
        if (_services.GetService<IHybridCacheSerializer<T>>() is { } registered)
        {
            return registered;
        }
        foreach (var factory in _factories)
        {
            if (factory.TryCreateSerializer<T>(out var created))
            {
                return created;
            }
        }
        if (typeof(T) == typeof(string))
        {
            return (IHybridCacheSerializer<T>)(object)new Utf8StringSerializer();
        }
        if (typeof(T) == typeof(byte[]))
        {
            return (IHybridCacheSerializer<T>)(object)new BytesSerializer();
        }
        return new JsonHybridSerializer<T>((JsonTypeInfo<T>)_json.GetTypeInfo(typeof(T)));
    }
}

/// <summary>
/// Whether a type's instances can be handed to every caller as one shared object: strings, value types without
/// references, and sealed classes marked <c>[ImmutableObject(true)]</c>. Everything else is deserialized per read.
/// </summary>
internal static class ImmutableType<T>
{
    public static readonly bool Is = Compute();

    private static bool Compute()
    {
        var type = typeof(T);
        if (type == typeof(string) || (type.IsValueType && !RuntimeHelpers.IsReferenceOrContainsReferences<T>()))
        {
            return true;
        }
        return type.IsSealed && type.GetCustomAttribute<ImmutableObjectAttribute>() is { Immutable: true };
    }
}

internal sealed class JsonHybridSerializer<T>(JsonTypeInfo<T> typeInfo) : IHybridCacheSerializer<T>
{
    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    public T Deserialize(ReadOnlySequence<byte> source)
    {
        var reader = new Utf8JsonReader(source);
        return JsonSerializer.Deserialize(ref reader, typeInfo)!;
    }

    public void Serialize(T value, IBufferWriter<byte> target)
    {
        var writer = t_writer;
        if (writer is null)
        {
            writer = t_writer = new Utf8JsonWriter(target, new JsonWriterOptions { SkipValidation = true });
        }
        else
        {
            writer.Reset(target);
        }
        try
        {
            JsonSerializer.Serialize(writer, value, typeInfo);
            writer.Flush();
        }
        finally
        {
            writer.Reset(Stream.Null);
        }
    }
}

internal sealed class Utf8StringSerializer : IHybridCacheSerializer<string>
{
    public string Deserialize(ReadOnlySequence<byte> source) => Encoding.UTF8.GetString(source);

    public void Serialize(string value, IBufferWriter<byte> target) => Encoding.UTF8.GetBytes(value, target);
}

internal sealed class BytesSerializer : IHybridCacheSerializer<byte[]>
{
    public byte[] Deserialize(ReadOnlySequence<byte> source) => source.ToArray();

    public void Serialize(byte[] value, IBufferWriter<byte> target) => target.Write(value);
}

/// <summary>A growable <see cref="IBufferWriter{T}"/> over pooled arrays, reused per thread for serialization.</summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(1024);
    private int _written;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public int WrittenCount => _written;

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    private void Ensure(int sizeHint)
    {
        if (sizeHint < 1)
        {
            sizeHint = 256;
        }
        if (_buffer.Length - _written >= sizeHint)
        {
            return;
        }
        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _written + sizeHint));
        _buffer.AsSpan(0, _written).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        _written = 0;
    }
}
